import { describe, expect, it } from 'vitest';
import { authenticate } from '../../src/domain/api-keys.js';
import { bootstrap } from '../../src/domain/organizations.js';
import { KINDS, openTestStore } from '../helpers/stores.js';

describe.each(KINDS)('first-start bootstrap on %s', (kind) => {
  it('creates exactly one organization with an admin key, also when raced', async () => {
    const { store, cleanup } = await openTestStore(kind);
    try {
      const results = await Promise.all([bootstrap(store, {}), bootstrap(store, {}), bootstrap(store, {})]);
      const created = results.filter((r) => r !== undefined);
      expect(created).toHaveLength(1);
      const orgs = await store.db.selectFrom('organizations').select('id').execute();
      expect(orgs).toHaveLength(1);
      const actor = await authenticate(store.db, created[0]!.key.key);
      expect(actor).toMatchObject({ org_id: orgs[0]!.id, role: 'admin', email: 'admin@localhost' });
      expect(await bootstrap(store, {})).toBeUndefined();
    } finally {
      await cleanup();
    }
  });

  it('uses LABELCAST_ADMIN_KEY when given and stores only its hash', async () => {
    const { store, cleanup } = await openTestStore(kind);
    try {
      const key = 'my-own-admin-key-0123456789';
      await bootstrap(store, { adminKey: key, adminEmail: 'Ops@Example.com' });
      expect(await authenticate(store.db, key)).toMatchObject({ role: 'admin', email: 'ops@example.com' });
      const rows = await store.db.selectFrom('api_keys').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(key);
    } finally {
      await cleanup();
    }
  });
});
