// SuperAnnotate's pipelines (seed 004, issue 13; /v1/pipelines): a trigger runs actions.
// A pipeline is a notification (scope x triggers x channels) with origin "superannotate";
// each action is one of its channels:
//   send_webhook  -> a webhook channel in the superannotate dialect (concurrency 32, 30 s)
//   send_email    -> an email channel sending seed 004's plain-text body per event, at once
//   custom_action -> an `action` channel: user code run by the sandbox, one run = one delivery
// Triggers (model/triggers.ts): entity events (with from/to for project and
// annotation status), an incoming webhook (a URL and a token shown once), a periodic cron
// schedule, or manual runs; firing those is in pipeline-fire.ts.
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Db } from '../store/connect.js';
import type { ChannelTable, NotificationTable } from '../store/schema.js';
import { signalWork } from './routing.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError, notFound } from '../model/errors.js';
import { iso } from '../model/views.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageQuery } from './paging.js';
import { nextFire } from '../model/cron.js';
import { emailRefusal, firedKind } from '../model/triggers.js';
import {
  createNotification,
  removeChannel,
  deleteNotification,
  insertChannel,
  insertPlainChannel,
  loadChannel,
  updateChannel,
  updateNotification,
  type Trigger,
  type WebhookConfig,
} from './notifications.js';

// Seed 004: custom actions run at most 32 at once and live 3 hours from pending.
export const ACTION_CONCURRENCY = 32;
export const ACTION_TTL_MS = 3 * 3600 * 1000;
export const ACTION_LIMIT_DEFAULTS = { memory_mb: 128, cpu_ms: 60_000, wall_ms: 300_000 } as const;

export interface PipelineTriggerInput {
  event: string;
  from?: string[] | undefined;
  to?: string[] | undefined;
  cron?: string | undefined;
  tz?: string | undefined;
}

export interface Limits {
  memory_mb?: number | undefined;
  cpu_ms?: number | undefined;
  wall_ms?: number | undefined;
}

export type ActionInput =
  | { type: 'send_webhook'; request_url: string; secret?: string | undefined; is_active?: boolean | undefined }
  | { type: 'send_email'; recipients: string[]; is_active?: boolean | undefined }
  | {
      type: 'custom_action';
      language: 'javascript' | 'python';
      code: string;
      /** Added to the event object the handler receives (seed 004 "Event Object Customization"). */
      args?: Record<string, unknown> | undefined;
      /** The name of a secret set (action_secrets) mounted into each run. */
      secret?: string | null | undefined;
      limits?: Limits | undefined;
      ttl_s?: number | undefined;
      is_active?: boolean | undefined;
    };

export interface PipelineInput {
  name: string;
  project?: number | null | undefined;
  trigger: PipelineTriggerInput;
  action?: ActionInput | undefined;
  actions?: ActionInput[] | undefined;
  is_active?: boolean | undefined;
}

/** A custom action's channel config: everything a run needs but the secret values. */
export interface ActionConfig {
  language: 'javascript' | 'python';
  code: string;
  args: Record<string, unknown>;
  secret: string | null;
  limits: { memory_mb: number; cpu_ms: number; wall_ms: number };
  ttl_ms: number;
}

export interface ActionView {
  id: number;
  /** The channel id (the same number): deliveries and attempts name it. */
  channel: number;
  pipeline: number;
  type: 'send_webhook' | 'send_email' | 'custom_action';
  is_active: boolean;
  request_url?: string;
  signed?: boolean;
  recipients?: string[];
  language?: string;
  code?: string;
  args?: Record<string, unknown>;
  secret?: string | null;
  limits?: ActionConfig['limits'];
  ttl_s?: number;
}

export interface PipelineView {
  id: number;
  name: string;
  project: number | null;
  trigger: PipelineTriggerInput;
  /** The first action (the shape before pipelines had several). */
  action: ActionView | null;
  actions: ActionView[];
  is_active: boolean;
  /** Incoming-webhook pipelines: where to POST; the token is returned once, at creation. */
  hook?: { url: string; header: string; token_prefix: string };
  created_at: string;
  updated_at: string;
}

export function actionView(c: Selectable<ChannelTable>): ActionView {
  const base = { id: c.id, channel: c.id, pipeline: c.notification_id, is_active: c.active === 1 };
  if (c.kind === 'email') return { ...base, type: 'send_email', recipients: (JSON.parse(c.config) as { recipients: string[] }).recipients };
  if (c.kind === 'action') {
    const a = JSON.parse(c.config) as ActionConfig;
    return { ...base, type: 'custom_action', language: a.language, code: a.code, args: a.args, secret: a.secret, limits: a.limits, ttl_s: Math.round(a.ttl_ms / 1000) };
  }
  return { ...base, type: 'send_webhook', request_url: (JSON.parse(c.config) as WebhookConfig).url, signed: c.secret !== null };
}

function pipelineView(n: Selectable<NotificationTable>, channels: Selectable<ChannelTable>[], hook: { prefix: string } | undefined, publicUrl: string): PipelineView {
  const scope = JSON.parse(n.scope) as 'all' | number[];
  const [t] = JSON.parse(n.triggers) as Trigger[];
  const actions = channels.filter((c) => c.notification_id === n.id).sort((a, b) => a.id - b.id).map(actionView);
  const view: PipelineView = {
    id: n.id,
    name: n.title,
    project: scope === 'all' ? null : scope[0]!,
    trigger: typeof t === 'string' ? { event: t } : (t as PipelineTriggerInput),
    action: actions[0] ?? null,
    actions,
    is_active: n.active === 1,
    created_at: iso(n.created_at),
    updated_at: iso(n.updated_at),
  };
  if (hook) view.hook = { url: `${publicUrl}/v1/hooks/${n.id}`, header: 'X-Hook-Token', token_prefix: hook.prefix };
  return view;
}

export async function loadPipeline(db: Db, orgId: number, id: number) {
  const n = await db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('id', '=', id).where('origin', '=', 'superannotate').executeTakeFirst();
  if (!n) throw notFound('pipeline', id);
  return n;
}

async function viewOf(db: Db, publicUrl: string, n: Selectable<NotificationTable>): Promise<PipelineView> {
  const channels = await db.selectFrom('channels').selectAll().where('notification_id', '=', n.id).execute();
  const hook = await db.selectFrom('pipeline_hooks').select('prefix').where('notification_id', '=', n.id).executeTakeFirst();
  return pipelineView(n, channels, hook, publicUrl);
}

// --- validation

function toTrigger(t: PipelineTriggerInput): Trigger {
  const kind = firedKind(t);
  if (kind === 'periodic') {
    if (!t.cron) throw new AppError('validation_failed', 'trigger: a periodic trigger needs cron, a 5-field cron expression like "0 * * * *", and optionally tz (an IANA time zone, default UTC).');
    try {
      nextFire({ cron: t.cron, tz: t.tz }, Date.now());
    } catch (err) {
      throw new AppError('validation_failed', `trigger: the periodic schedule is not valid (${(err as Error).message}); use a 5-field cron like "*/15 * * * *" and an IANA time zone like "Europe/Paris".`);
    }
    return { event: 'periodic', cron: t.cron, tz: t.tz ?? 'UTC' };
  }
  if (t.cron !== undefined || t.tz !== undefined) throw new AppError('validation_failed', 'trigger: cron and tz belong to periodic triggers only.');
  if (kind) {
    if (t.from || t.to) throw new AppError('validation_failed', `trigger: from/to filters do not apply to ${kind} triggers.`);
    return { event: kind };
  }
  return t.from || t.to ? { event: t.event, ...(t.from ? { from: t.from } : {}), ...(t.to ? { to: t.to } : {}) } : t.event;
}

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

function checkEmailTrigger(trigger: Trigger): void {
  const why = emailRefusal(typeof trigger === 'string' ? trigger : (trigger as PipelineTriggerInput));
  if (why) {
    throw new AppError('email_trigger_not_allowed', `A Send email action cannot run on ${why} (seed 004: not on "Incoming webhook", "Periodic event" or item-related events); use a project event, a manual trigger, or a webhook or custom action instead.`);
  }
}

async function actionConfig(ctx: Ctx, a: Extract<ActionInput, { type: 'custom_action' }>): Promise<ActionConfig> {
  if (a.secret) {
    const s = await ctx.trx.selectFrom('action_secrets').select('id').where('org_id', '=', ctx.actor.org_id).where('name', '=', a.secret).executeTakeFirst();
    if (!s) throw notFound('secret', a.secret);
  }
  return {
    language: a.language,
    code: a.code,
    args: a.args ?? {},
    secret: a.secret ?? null,
    limits: { ...ACTION_LIMIT_DEFAULTS, ...Object.fromEntries(Object.entries(a.limits ?? {}).filter(([, v]) => v !== undefined)) },
    ttl_ms: a.ttl_s !== undefined ? a.ttl_s * 1000 : ACTION_TTL_MS,
  };
}

/** Reserved keys of the event object: custom arguments may not replace them. */
const EVENT_KEYS = new Set(['uuid', 'event', 'pipeline_id', 'trigger_result_id', 'ts_ms']);

async function insertAction(ctx: Ctx, pipelineId: number, trigger: Trigger, a: ActionInput): Promise<ActionView> {
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

// --- commands

export function newHookToken(): string {
  return 'lch_' + crypto.randomBytes(24).toString('base64url');
}

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export async function createPipeline(ctx: Ctx, input: PipelineInput): Promise<PipelineView & { hook_token?: string }> {
  const actions = [...(input.action ? [input.action] : []), ...(input.actions ?? [])];
  if (actions.length === 0) throw new AppError('validation_failed', 'A pipeline needs at least one action: action or actions.');
  if (actions.length > 10) throw new AppError('validation_failed', 'A pipeline has at most 10 actions.');
  const trigger = toTrigger(input.trigger);
  const created = await createNotification(
    ctx,
    { title: input.name, scope: { projects: input.project != null ? [input.project] : 'all' }, triggers: [trigger], active: input.is_active ?? true, channels: [] },
    { origin: 'superannotate' },
  );
  for (const a of actions) await insertAction(ctx, created.id, trigger, a);
  let token: string | undefined;
  if (firedKind(trigger) === 'incoming_webhook') {
    token = newHookToken();
    await ctx.trx.insertInto('pipeline_hooks').values({ notification_id: created.id, org_id: ctx.actor.org_id, token_hash: hashToken(token), prefix: token.slice(0, 8), created_at: ctx.now }).execute();
  }
  const view = await viewOf(ctx.trx, ctx.svc.messaging.publicUrl, await loadPipeline(ctx.trx, ctx.actor.org_id, created.id));
  return token ? { ...view, hook_token: token } : view;
}

export async function getPipeline(db: Db, publicUrl: string, orgId: number, id: number): Promise<PipelineView> {
  return viewOf(db, publicUrl, await loadPipeline(db, orgId, id));
}

export async function listPipelines(db: Db, publicUrl: string, orgId: number, q: PageQuery): Promise<Page<PipelineView>> {
  const limit = pageLimit(q);
  const rows = await db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('origin', '=', 'superannotate').where('id', '>', decodeCursor(q.cursor)).orderBy('id').limit(limit + 1).execute();
  const ids = rows.slice(0, limit).map((r) => r.id);
  const channels = ids.length ? await db.selectFrom('channels').selectAll().where('notification_id', 'in', ids).execute() : [];
  const hooks = ids.length ? await db.selectFrom('pipeline_hooks').select(['notification_id', 'prefix']).where('notification_id', 'in', ids).execute() : [];
  return toPage(rows, limit, (n) => pipelineView(n, channels, hooks.find((h) => h.notification_id === n.id), publicUrl));
}

export interface PipelinePatch {
  name?: string | undefined;
  project?: number | null | undefined;
  trigger?: PipelineTriggerInput | undefined;
  is_active?: boolean | undefined;
}

/**
 * Rename, rescope, switch on or off, or change the trigger. A new trigger must suit every
 * action (Send email's limits); becoming an incoming webhook makes a token (returned once),
 * ceasing to be one drops it.
 */
export async function updatePipeline(ctx: Ctx, id: number, patch: PipelinePatch): Promise<PipelineView & { hook_token?: string }> {
  const n = await loadPipeline(ctx.trx, ctx.actor.org_id, id);
  const trigger = patch.trigger ? toTrigger(patch.trigger) : undefined;
  if (trigger) {
    const channels = await ctx.trx.selectFrom('channels').select('kind').where('notification_id', '=', id).execute();
    if (channels.some((c) => c.kind === 'email')) checkEmailTrigger(trigger);
  }
  await updateNotification(ctx, id, {
    ...(patch.name !== undefined ? { title: patch.name } : {}),
    ...(patch.project !== undefined ? { scope: { projects: patch.project !== null ? [patch.project] : 'all' } } : {}),
    ...(trigger ? { triggers: [trigger] } : {}),
    ...(patch.is_active !== undefined ? { active: patch.is_active } : {}),
  }, 'pipeline');
  let token: string | undefined;
  if (trigger) {
    const hook = await ctx.trx.selectFrom('pipeline_hooks').select('notification_id').where('notification_id', '=', id).executeTakeFirst();
    if (firedKind(trigger) === 'incoming_webhook' && !hook) {
      token = newHookToken();
      await ctx.trx.insertInto('pipeline_hooks').values({ notification_id: id, org_id: n.org_id, token_hash: hashToken(token), prefix: token.slice(0, 8), created_at: ctx.now }).execute();
    } else if (firedKind(trigger) !== 'incoming_webhook' && hook) {
      await ctx.trx.deleteFrom('pipeline_hooks').where('notification_id', '=', id).execute();
    }
  }
  const view = await viewOf(ctx.trx, ctx.svc.messaging.publicUrl, await loadPipeline(ctx.trx, ctx.actor.org_id, id));
  return token ? { ...view, hook_token: token } : view;
}

export async function deletePipeline(ctx: Ctx, id: number): Promise<void> {
  await loadPipeline(ctx.trx, ctx.actor.org_id, id);
  await deleteNotification(ctx, id);
  await ctx.trx.deleteFrom('pipeline_hooks').where('notification_id', '=', id).execute();
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

export interface ActionPatch {
  is_active?: boolean | undefined;
  request_url?: string | undefined;
  recipients?: string[] | undefined;
  code?: string | undefined;
  args?: Record<string, unknown> | undefined;
  secret?: string | null | undefined;
  limits?: Limits | undefined;
  ttl_s?: number | undefined;
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
      limits: { ...cur.limits, ...(patch.limits ?? {}) },
      ttl_s: patch.ttl_s ?? cur.ttl_ms / 1000,
    });
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
