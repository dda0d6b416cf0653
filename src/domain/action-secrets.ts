// Named secret sets for custom actions (seed 004 "Secret": "create a Secret containing all
// the necessary variables and mount it to the custom action"). Values are sealed through
// store/secret-box.ts and never returned: a set shows its name and key names only.
import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { ActionSecretTable } from '../store/schema.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError, notFound } from '../model/errors.js';
import { iso } from '../model/views.js';
import { sealSecretValues } from '../store/secret-box.js';

export interface SecretSetView {
  id: number;
  name: string;
  keys: string[];
  created_at: string;
  updated_at: string;
}

const view = (r: Selectable<ActionSecretTable>): SecretSetView => ({ id: r.id, name: r.name, keys: JSON.parse(r.keys) as string[], created_at: iso(r.created_at), updated_at: iso(r.updated_at) });

const KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function checkValues(values: Record<string, string>): void {
  const keys = Object.keys(values);
  if (keys.length === 0 || keys.length > 50) throw new AppError('validation_failed', 'values must hold 1 to 50 keys.');
  const bad = keys.find((k) => !KEY.test(k));
  if (bad !== undefined) throw new AppError('validation_failed', `values key '${bad}' must be a letter or _ followed by up to 63 letters, digits or _ (an environment variable name).`);
}

export async function createSecretSet(ctx: Ctx, input: { name: string; values: Record<string, string> }): Promise<SecretSetView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'create secrets');
  checkValues(input.values);
  const exists = await ctx.trx.selectFrom('action_secrets').select('id').where('org_id', '=', ctx.actor.org_id).where('name', '=', input.name).executeTakeFirst();
  if (exists) throw new AppError('conflict', `A secret set named "${input.name}" exists; change it with PUT /v1/secrets/${exists.id} or choose another name.`);
  const row = await ctx.trx
    .insertInto('action_secrets')
    .values({ org_id: ctx.actor.org_id, name: input.name, sealed: sealSecretValues(ctx.svc.ring, input.values), keys: JSON.stringify(Object.keys(input.values).sort()), created_at: ctx.now, updated_at: ctx.now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return view(row);
}

async function load(db: Db, orgId: number, id: number) {
  const r = await db.selectFrom('action_secrets').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!r) throw notFound('secret set', id);
  return r;
}

/** Replaces every value of a set (values are never read back, so there is nothing to merge). */
export async function replaceSecretSet(ctx: Ctx, id: number, values: Record<string, string>): Promise<SecretSetView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change secrets');
  await load(ctx.trx, ctx.actor.org_id, id);
  checkValues(values);
  const row = await ctx.trx
    .updateTable('action_secrets')
    .set({ sealed: sealSecretValues(ctx.svc.ring, values), keys: JSON.stringify(Object.keys(values).sort()), updated_at: ctx.now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return view(row);
}

export async function listSecretSets(db: Db, orgId: number): Promise<{ data: SecretSetView[] }> {
  return { data: (await db.selectFrom('action_secrets').selectAll().where('org_id', '=', orgId).orderBy('name').execute()).map(view) };
}

export async function deleteSecretSet(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.manageNotifications, 'delete secrets');
  const r = await load(ctx.trx, ctx.actor.org_id, id);
  const users = (await ctx.trx.selectFrom('channels').select(['id', 'config']).where('org_id', '=', ctx.actor.org_id).where('kind', '=', 'action').execute()).filter(
    (c) => (JSON.parse(c.config) as { secret?: string | null }).secret === r.name,
  );
  if (users.length > 0) throw new AppError('invalid_state', `Secret set "${r.name}" is mounted on action ${users.map((u) => u.id).join(', ')}; unmount it (PATCH /v1/actions/{id} with secret: null) first.`);
  await ctx.trx.deleteFrom('action_secrets').where('id', '=', id).execute();
}
