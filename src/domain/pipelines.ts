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
import type { Db } from '../store/db.js';
import type { Ctx } from './context.js';
import { AppError } from '../model/errors.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageQuery } from './paging.js';
import { firedKind } from '../model/triggers.js';
import { checkEmailTrigger, checkPipelineTrigger } from '../model/trigger-checks.js';
import { createNotification, deleteNotification, updateNotification } from './notifications.js';
import { insertAction } from './pipeline-actions.js';
import type { NewPipeline, PipelinePatch } from '../model/pipeline-inputs.js';
import { loadPipeline, pipelineView, viewOf, type PipelineView } from './pipeline-views.js';


export function newHookToken(): string {
  return 'lch_' + crypto.randomBytes(24).toString('base64url');
}

export const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export async function createPipeline(ctx: Ctx, input: NewPipeline): Promise<PipelineView & { hook_token?: string }> {
  const actions = [...(input.action ? [input.action] : []), ...(input.actions ?? [])];
  if (actions.length === 0) throw new AppError('validation_failed', 'A pipeline needs at least one action: action or actions.');
  if (actions.length > 10) throw new AppError('validation_failed', 'A pipeline has at most 10 actions.');
  const trigger = checkPipelineTrigger(input.trigger);
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

/**
 * Rename, rescope, switch on or off, or change the trigger. A new trigger must suit every
 * action (Send email's limits); becoming an incoming webhook makes a token (returned once),
 * ceasing to be one drops it.
 */
export async function updatePipeline(ctx: Ctx, id: number, patch: PipelinePatch): Promise<PipelineView & { hook_token?: string }> {
  const n = await loadPipeline(ctx.trx, ctx.actor.org_id, id);
  const trigger = patch.trigger ? checkPipelineTrigger(patch.trigger) : undefined;
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
