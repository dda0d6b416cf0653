// A pipeline's actions (seed 004; /v1/pipelines/{id}/actions, /v1/actions/{id}): each is a
// channel of the pipeline's notification. send_webhook is a superannotate-dialect webhook,
// send_email an email channel to members only, custom_action an `action` channel whose
// config (model/channel-config.ts ActionConfig) the sandbox runs.
import type { Db } from '../store/db.js';
import { signalWork } from './routing.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError, notFound } from '../model/errors.js';
import type { ActionConfig } from '../model/channel-config.js';
import { checkEmailTrigger } from '../model/trigger-checks.js';
import type { Trigger } from '../model/triggers.js';
import type { ActionInput, ActionPatch } from '../model/pipeline-inputs.js';
import { insertChannel, insertPlainChannel } from './channel-create.js';
import { removeChannel, updateChannel } from './channels.js';
import { loadChannel } from './notification-rows.js';
import { actionView, loadPipeline, type ActionView } from './pipeline-views.js';

// Seed 004: custom actions run at most 32 at once and live 3 hours from pending.
export const ACTION_CONCURRENCY = 32;
export const ACTION_TTL_MS = 3 * 3600 * 1000;
export const ACTION_LIMIT_DEFAULTS = { memory_mb: 128, cpu_ms: 60_000, wall_ms: 300_000 } as const;

/** Seed 004: "Emails can only be sent to existing team members." */
async function checkMembers(ctx: Ctx, recipients: string[]): Promise<string[]> {
  const wanted = [...new Set(recipients.map((r) => r.trim().toLowerCase()))];
  if (wanted.length === 0 || wanted.length > 50) throw new AppError('validation_failed', 'recipients must list 1 to 50 email addresses of members of your organization.');
  const users = await ctx.trx.selectFrom('users').select('email').where('org_id', '=', ctx.actor.org_id).execute();
  const members = new Set(users.map((u) => u.email.toLowerCase()));
  const outsiders = wanted.filter((r) => !members.has(r));
  if (outsiders.length > 0) {
    throw new AppError('recipient_not_member', `Send email goes to members of your organization only (seed 004); ${outsiders.join(', ')} ${outsiders.length === 1 ? 'is' : 'are'} not. Add them with POST /v1/users or remove them from recipients.`);
  }
  return wanted;
}

type Limits = ActionConfig['limits'];

// Each limit, the operator's bound on it (model/delivery-settings.ts ActionSettings) and the
// setting that raises that bound.
const LIMIT_BOUNDS = [
  ['memory_mb', 'memoryMiB', 'LABELCAST_ACTION_MEMORY_MIB'],
  ['cpu_ms', 'cpuMs', 'LABELCAST_ACTION_CPU_MS'],
  ['wall_ms', 'wallMs', 'LABELCAST_ACTION_WALL_MS'],
] as const;

/**
 * An action's limits: what it asks, within what this server allows. A value above the
 * operator's bound is refused rather than quietly lowered at run time (the author would
 * otherwise believe their action had memory it never gets); a limit not given defaults to
 * the lower of the usual default and the bound.
 */
function actionLimits(ctx: Ctx, asked: Partial<Limits> | undefined, current?: Limits): Limits {
  const bounds = ctx.svc.delivery.actions;
  const limits = { ...ACTION_LIMIT_DEFAULTS } as Limits;
  for (const [key, bound, setting] of LIMIT_BOUNDS) {
    const value = asked?.[key];
    if (value !== undefined && value > bounds[bound]) {
      throw new AppError('validation_failed', `limits.${key} may be at most ${bounds[bound]} on this server (its operator sets ${setting}); ask for ${bounds[bound]} or less.`);
    }
    limits[key] = value ?? current?.[key] ?? Math.min(ACTION_LIMIT_DEFAULTS[key], bounds[bound]);
  }
  return limits;
}

async function actionConfig(ctx: Ctx, a: Extract<ActionInput, { type: 'custom_action' }>, current?: ActionConfig): Promise<ActionConfig> {
  if (a.secret) {
    const s = await ctx.trx.selectFrom('action_secrets').select('id').where('org_id', '=', ctx.actor.org_id).where('name', '=', a.secret).executeTakeFirst();
    if (!s) throw notFound('secret', a.secret);
  }
  return {
    language: a.language,
    code: a.code,
    args: a.args ?? {},
    secret: a.secret ?? null,
    limits: actionLimits(ctx, a.limits, current?.limits),
    ttl_ms: a.ttl_s !== undefined ? a.ttl_s * 1000 : ACTION_TTL_MS,
  };
}

/** Reserved keys of the event object: custom arguments may not replace them. */
const EVENT_KEYS = new Set(['uuid', 'event', 'pipeline_id', 'trigger_result_id', 'ts_ms']);

export async function insertAction(ctx: Ctx, pipelineId: number, trigger: Trigger, a: ActionInput): Promise<ActionView> {
  if (a.type === 'send_webhook') {
    // Seed 004: concurrency limit 32, 30 s timeout, 2xx success (the defaults).
    const c = await insertChannel(ctx, pipelineId, { type: 'webhook', url: a.request_url, dialect: 'superannotate', max_in_flight: 32, active: a.is_active, ...(a.secret ? { secret: a.secret } : {}) }, [trigger]);
    return actionView(await loadChannel(ctx.trx, ctx.actor.org_id, c.id));
  }
  if (a.type === 'send_email') {
    checkEmailTrigger(trigger);
    const recipients = await checkMembers(ctx, a.recipients);
    const c = await insertPlainChannel(ctx, pipelineId, 'email', { recipients, format: 'superannotate' }, a.is_active, 0);
    return actionView(await loadChannel(ctx.trx, ctx.actor.org_id, c.id));
  }
  const clash = Object.keys(a.args ?? {}).find((k) => EVENT_KEYS.has(k));
  if (clash) throw new AppError('validation_failed', `args.${clash} would replace a key of the event object; choose another name.`);
  const c = await insertPlainChannel(ctx, pipelineId, 'action', await actionConfig(ctx, a), a.is_active, 0, ACTION_CONCURRENCY);
  return actionView(await loadChannel(ctx.trx, ctx.actor.org_id, c.id));
}

export async function addAction(ctx: Ctx, pipelineId: number, a: ActionInput): Promise<ActionView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change pipelines');
  const n = await loadPipeline(ctx.trx, ctx.actor.org_id, pipelineId);
  const [trigger] = JSON.parse(n.triggers) as Trigger[];
  const count = await ctx.trx.selectFrom('channels').select((eb) => eb.fn.countAll<number>().as('n')).where('notification_id', '=', pipelineId).executeTakeFirstOrThrow();
  if (Number(count.n) >= 10) throw new AppError('validation_failed', 'A pipeline has at most 10 actions.');
  return insertAction(ctx, pipelineId, trigger!, a);
}

/** An action of a pipeline in the caller's organization. */
export async function loadAction(db: Db, orgId: number, id: number) {
  const c = await db
    .selectFrom('channels')
    .innerJoin('notifications', 'notifications.id', 'channels.notification_id')
    .selectAll('channels')
    .where('channels.org_id', '=', orgId)
    .where('channels.id', '=', id)
    .where('notifications.origin', '=', 'superannotate')
    .executeTakeFirst();
  if (!c) throw notFound('action', id);
  return c;
}

export async function getAction(db: Db, orgId: number, id: number): Promise<ActionView> {
  return actionView(await loadAction(db, orgId, id));
}

export async function updateAction(ctx: Ctx, id: number, patch: ActionPatch): Promise<ActionView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change pipelines');
  const c = await loadAction(ctx.trx, ctx.actor.org_id, id);
  const type = actionView(c).type;
  const fields: Record<string, ActionView['type']> = { request_url: 'send_webhook', recipients: 'send_email', code: 'custom_action', args: 'custom_action', secret: 'custom_action', limits: 'custom_action', ttl_s: 'custom_action' };
  const wrong = Object.keys(patch).find((k) => fields[k] !== undefined && fields[k] !== type && (patch as Record<string, unknown>)[k] !== undefined);
  if (wrong) throw new AppError('validation_failed', `${wrong} does not apply to a ${type} action.`);
  if (type === 'send_webhook') {
    await updateChannel(ctx, id, { ...(patch.request_url !== undefined ? { url: patch.request_url } : {}), ...(patch.is_active !== undefined ? { active: patch.is_active } : {}) });
    return getAction(ctx.trx, ctx.actor.org_id, id);
  }
  let config = c.config;
  if (type === 'send_email' && patch.recipients) config = JSON.stringify({ recipients: await checkMembers(ctx, patch.recipients), format: 'superannotate' });
  if (type === 'custom_action') {
    const cur = JSON.parse(c.config) as ActionConfig;
    const clash = Object.keys(patch.args ?? {}).find((k) => EVENT_KEYS.has(k));
    if (clash) throw new AppError('validation_failed', `args.${clash} would replace a key of the event object; choose another name.`);
    const next = await actionConfig(ctx, {
      type: 'custom_action',
      language: cur.language,
      code: patch.code ?? cur.code,
      args: patch.args ?? cur.args,
      secret: patch.secret === undefined ? cur.secret : patch.secret,
      ...(patch.limits ? { limits: patch.limits } : {}),
      ttl_s: patch.ttl_s ?? cur.ttl_ms / 1000,
    }, cur);
    config = JSON.stringify(next);
  }
  const row = await ctx.trx
    .updateTable('channels')
    .set({ config, active: patch.is_active === undefined ? c.active : patch.is_active ? 1 : 0, updated_at: ctx.now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (patch.is_active === true) await signalWork(ctx);
  return actionView(row);
}

export async function deleteAction(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change pipelines');
  const c = await loadAction(ctx.trx, ctx.actor.org_id, id);
  // A pipeline needs at least one action (as on create): removing the last one would leave a
  // pipeline that fires into nothing. Delete the pipeline instead.
  const siblings = await ctx.trx.selectFrom('channels').select((eb) => eb.fn.countAll<number>().as('n')).where('notification_id', '=', c.notification_id).executeTakeFirstOrThrow();
  if (Number(siblings.n) <= 1) throw new AppError('invalid_state', `Action ${id} is its pipeline's only action; add another first, or delete the pipeline (DELETE /v1/pipelines/{id}).`);
  await removeChannel(ctx, id);
}
