// API keys: random 32-byte secrets, shown once at creation and stored only as a SHA-256
// hash. A fast hash is right here (unlike passwords): the secret has 256 bits of entropy, so
// there is nothing to brute-force, and every request pays for the lookup.
import crypto from 'node:crypto';
import type { Db } from '../store/db.js';
import type { Actor, Ctx, Role } from './context.js';
import { CAN, requireRole } from './access.js';
import { notFound } from '../model/errors.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageQuery } from './paging.js';

const KEY_PREFIX = 'lc_';

export function generateKey(): string {
  return KEY_PREFIX + crypto.randomBytes(32).toString('base64url');
}

export function hashKey(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

export interface ApiKeyView {
  id: number;
  name: string;
  prefix: string;
  user: number;
  created_at: string;
  last_used_at: string | null;
}

export interface CreatedApiKey extends ApiKeyView {
  /** The secret itself: returned by create only, never again. */
  key: string;
}

const view = (r: { id: number; name: string; prefix: string; user_id: number; created_at: number; last_used_at: number | null }): ApiKeyView => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  user: r.user_id,
  created_at: new Date(r.created_at).toISOString(),
  last_used_at: r.last_used_at === null ? null : new Date(r.last_used_at).toISOString(),
});

/** Inserts a key row; the caller decides who may. Used by the API and by bootstrap. */
export async function insertKey(trx: Db, orgId: number, userId: number, name: string, now: number, key = generateKey()): Promise<CreatedApiKey> {
  const row = await trx
    .insertInto('api_keys')
    .values({ org_id: orgId, user_id: userId, name, prefix: key.slice(0, 10), key_hash: hashKey(key), created_at: now, last_used_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...view(row), key };
}

export async function createKey(ctx: Ctx, input: { name: string; user_id?: number | undefined }): Promise<CreatedApiKey> {
  const userId = input.user_id ?? ctx.actor.user_id;
  if (userId !== ctx.actor.user_id) {
    requireRole(ctx.actor, CAN.manageAllKeys, 'create API keys for other users');
    const u = await ctx.trx.selectFrom('users').select('id').where('org_id', '=', ctx.actor.org_id).where('id', '=', userId).executeTakeFirst();
    if (!u) throw notFound('user', userId);
  }
  return insertKey(ctx.trx, ctx.actor.org_id, userId, input.name, ctx.now);
}

export async function listKeys(db: Db, actor: Actor, q: PageQuery): Promise<Page<ApiKeyView>> {
  const limit = pageLimit(q);
  let query = db.selectFrom('api_keys').selectAll().where('org_id', '=', actor.org_id).where('id', '>', decodeCursor(q.cursor));
  // Members see their own keys; admins see every key of the organization.
  if (!CAN.manageAllKeys.includes(actor.role as 'admin')) query = query.where('user_id', '=', actor.user_id);
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  return toPage(rows, limit, view);
}

export async function deleteKey(ctx: Ctx, id: number): Promise<void> {
  let q = ctx.trx.deleteFrom('api_keys').where('org_id', '=', ctx.actor.org_id).where('id', '=', id);
  if (!CAN.manageAllKeys.includes(ctx.actor.role as 'admin')) q = q.where('user_id', '=', ctx.actor.user_id);
  const res = await q.executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) throw notFound('API key', id);
}

/** Resolves a presented key to the acting user, or undefined for an unknown key. */
export async function authenticate(db: Db, key: string): Promise<Actor | undefined> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select(['api_keys.id as key_id', 'api_keys.org_id', 'users.id as user_id', 'users.email', 'users.role'])
    .where('api_keys.key_hash', '=', hashKey(key))
    .executeTakeFirst();
  if (!row) return undefined;
  return { org_id: row.org_id, user_id: row.user_id, email: row.email, role: row.role as Role, api_key_id: row.key_id };
}
