import { describe, expect, it } from 'vitest';
import { KINDS, openTestStore } from '../helpers/stores.js';

describe.each(KINDS)('migrations on %s', (kind) => {
  it('create every table once and are idempotent', async () => {
    const { store, cleanup } = await openTestStore(kind);
    try {
      // openTestStore already migrated; a second run applies nothing.
      expect(await store.migrate()).toEqual([]);
      const tables = (await store.db.introspection.getTables()).map((t) => t.name);
      for (const t of ['organizations', 'users', 'api_keys', 'projects', 'stages', 'tasks', 'labels', 'activity', 'events']) {
        expect(tables).toContain(t);
      }
    } finally {
      await cleanup();
    }
  });

  it('round-trips times, flags and JSON identically', async () => {
    const { store, cleanup } = await openTestStore(kind);
    try {
      const now = 1_795_000_000_123;
      const org = await store.db.insertInto('organizations').values({ name: 'o', created_at: now }).returning('id').executeTakeFirstOrThrow();
      const row = await store.db.selectFrom('organizations').selectAll().where('id', '=', org.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ id: org.id, name: 'o', created_at: now });
      expect(typeof row.id).toBe('number');
    } finally {
      await cleanup();
    }
  });
});
