import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS, openTestStore, TEST_DATABASE_URL } from '../helpers/stores.js';
import { openStore } from '../../src/store/connect.js';
import { migrations, migrator } from '../../src/store/migrations.js';

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

  it("0010 counts each existing event's deliveries, so retention keeps what is still referenced", async () => {
    const schema = 't_' + crypto.randomBytes(6).toString('hex');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-migrate-'));
    const store = await openStore(kind === 'sqlite' ? { sqliteFile: path.join(dir, 'old.db') } : { databaseUrl: TEST_DATABASE_URL, pgSchema: schema });
    try {
      // A database as the version before 0010 left it, with events and their deliveries.
      const to = await migrator(store.db, kind, kind === 'postgres' ? schema : undefined).migrateTo('0009_attempt_body_from_event');
      expect(to.error).toBeUndefined();
      const db = store.db as any;
      const ev = (id: string) => ({ id, org_id: 1, project_id: null, type: 'project.updated', occurred_at: 1, actor: '{}', data: '{}', before: null, after: null });
      await db.insertInto('events').values([ev('two'), ev('one'), ev('none')]).execute();
      const delivery = (event_id: string, channel_id: number) => ({
        org_id: 1, notification_id: 1, channel_id, event_id, event_type: 'project.updated', part: 0, payload: null, status: 'pending', attempt_count: 0, retry_index: 0,
        next_attempt_at: 1, lease_until: null, leased_by: null, last_status: null, last_error: null, created_at: 1, updated_at: 1, completed_at: null,
      });
      await db.insertInto('deliveries').values([delivery('two', 1), delivery('two', 2), delivery('one', 1)]).execute();

      expect(await store.migrate()).toContain('0010_event_delivery_counts');
      const counts = await store.db.selectFrom('events').select(['id', 'deliveries_left']).orderBy('seq').execute();
      expect(counts).toEqual([{ id: 'two', deliveries_left: 2 }, { id: 'one', deliveries_left: 1 }, { id: 'none', deliveries_left: 0 }]);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a version that knows migrations only up to 0010 from starting on a database past 0011', async () => {
    // From 0011 on, an event's after may be a reference into its data (store/queue/event-rows.ts),
    // which such a version would send as it is. Its start migrates first, and must fail.
    const { store, location, cleanup } = await openTestStore(kind);
    try {
      const names = Object.keys(migrations(kind));
      expect(names).toContain('0011_event_after_by_reference');
      const earlier = Object.fromEntries(Object.entries(migrations(kind)).filter(([name]) => name < '0011'));
      const { error } = await migrator(store.db, kind, kind === 'postgres' ? location : undefined, earlier).migrateToLatest();
      expect(String(error)).toMatch(/0011_event_after_by_reference is missing/);
    } finally {
      await cleanup();
    }
  });
});
