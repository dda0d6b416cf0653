// Organizations are the tenancy boundary: every row carries org_id and every query filters
// on the caller's. An organization is created with its first admin and that admin's key.
import type { Store } from '../store/connect.js';
import type { Tx } from '../store/db.js';
import { insertKey, type CreatedApiKey } from './api-keys.js';
import { normalizeEmail } from './users.js';

export interface NewOrganization {
  name: string;
  admin_email: string;
  admin_name?: string;
  /** Use this key instead of generating one (LABELCAST_ADMIN_KEY on first start). */
  admin_key?: string | undefined;
}

export interface CreatedOrganization {
  org_id: number;
  admin_user_id: number;
  key: CreatedApiKey;
}

async function insertOrganization(trx: Tx, input: NewOrganization, now: number): Promise<CreatedOrganization> {
  const org = await trx.insertInto('organizations').values({ name: input.name, created_at: now }).returning('id').executeTakeFirstOrThrow();
  const user = await trx
    .insertInto('users')
    .values({
      org_id: org.id,
      email: normalizeEmail(input.admin_email),
      name: input.admin_name ?? 'Administrator',
      role: 'admin',
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const key = await insertKey(trx, org.id, user.id, 'admin (bootstrap)', now, input.admin_key);
  return { org_id: org.id, admin_user_id: user.id, key };
}

export async function createOrganization(store: Store, input: NewOrganization, now = Date.now()): Promise<CreatedOrganization> {
  return store.tx((trx) => insertOrganization(trx, input, now));
}

/**
 * First start: with an empty database, create the first organization. Returns the key to
 * print once, or undefined when the database already had an organization. Several processes
 * starting together on one PostgreSQL serialize on a lock, so exactly one creates it.
 */
export async function bootstrap(store: Store, opts: { adminKey?: string | undefined; adminEmail?: string | undefined }): Promise<CreatedOrganization | undefined> {
  return store.tx(async (trx) => {
    await store.lockForBootstrap(trx);
    const any = await trx.selectFrom('organizations').select('id').limit(1).executeTakeFirst();
    if (any) return undefined;
    return insertOrganization(
      trx,
      { name: 'Default organization', admin_email: opts.adminEmail ?? 'admin@localhost', admin_key: opts.adminKey },
      Date.now(),
    );
  });
}
