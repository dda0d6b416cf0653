// Notifications: the user's one concept (DESIGN.md): scope (which projects, or the whole
// organization) x triggers (which events) x channels (where). The channel row keeps
// kind-specific settings in `config` (model/channel-config.ts) so email, Slack and digest
// channels add a kind, not a table. This module is the notification commands; the rest of the
// feature is split by concern:
//   model/channel-inputs.ts      channel request schemas and the input types derived from them
//   model/channel-config.ts      stored channel configs, header and recipient checks
//   model/triggers.ts            the Trigger type; model/trigger-checks.ts checks them
//   model/header-masking.ts      masking credential-like header values
//   model/webhook-secrets.ts     generating and checking signing secrets
//   domain/notification-views.ts the API views; domain/notification-rows.ts loading rows
//   domain/channel-create.ts     adding a channel; domain/channels.ts the channel commands
//   domain/secret-rotation.ts    rotating a webhook's secret
import type { Db } from '../store/db.js';
import type { Keyring } from '../store/seal.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError, notFound } from '../model/errors.js';
import type { WebhookConfig } from '../model/channel-config.js';
import type { ChannelInput } from '../model/channel-inputs.js';
import type { Trigger } from '../model/triggers.js';
import { checkTriggers } from '../model/trigger-checks.js';
import { decodeCursor, pageLimit, titleContains, toPage, type Page, type PageQuery } from './paging.js';
import { checkDialectTriggers } from './channel-checks.js';
import { insertChannel } from './channel-create.js';
import { cancelPending, channelsOf, loadNotification } from './notification-rows.js';
import { notificationView, type ChannelView, type NotificationView, type Scope, type WithSecret } from './notification-views.js';


export interface NewNotification {
  title: string;
  description?: string | undefined;
  scope?: { projects: Scope } | undefined;
  triggers: Trigger[];
  active?: boolean | undefined;
  channels?: ChannelInput[] | undefined;
}

export interface NotificationPatch {
  title?: string | undefined;
  description?: string | undefined;
  scope?: { projects: Scope } | undefined;
  triggers?: Trigger[] | undefined;
  active?: boolean | undefined;
}

export interface Origin {
  origin: 'notification' | 'stage' | 'label-studio' | 'superannotate';
  stage_id?: number | null;
}

async function checkScope(ctx: Ctx, scope: Scope): Promise<Scope> {
  if (scope === 'all') return scope;
  const ids = [...new Set(scope)];
  if (ids.length === 0) throw new AppError('validation_failed', 'scope.projects must be "all" or a non-empty list of project ids.');
  const found = await ctx.trx.selectFrom('projects').select('id').where('org_id', '=', ctx.actor.org_id).where('id', 'in', ids).execute();
  const missing = ids.find((id) => !found.some((f) => f.id === id));
  if (missing !== undefined) throw notFound('project', missing);
  return ids.sort((a, b) => a - b);
}

export async function createNotification(ctx: Ctx, input: NewNotification, origin: Origin = { origin: 'notification' }): Promise<NotificationView & { channels: WithSecret<ChannelView>[] }> {
  requireRole(ctx.actor, CAN.manageNotifications, 'create notifications');
  const scope = await checkScope(ctx, input.scope?.projects ?? 'all');
  const triggers = checkTriggers(input.triggers);
  const n = await ctx.trx
    .insertInto('notifications')
    .values({
      org_id: ctx.actor.org_id,
      title: input.title,
      description: input.description ?? '',
      scope: JSON.stringify(scope),
      triggers: JSON.stringify(triggers),
      active: input.active === false ? 0 : 1,
      origin: origin.origin,
      stage_id: origin.stage_id ?? null,
      created_by: ctx.actor.user_id,
      created_at: ctx.now,
      updated_at: ctx.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const channels: WithSecret<ChannelView>[] = [];
  for (const c of input.channels ?? []) channels.push(await insertChannel(ctx, n.id, c, triggers));
  return { ...notificationView(n, [], ctx.svc.ring), channels };
}

/** by: 'pipeline' when src/domain/pipelines.ts has already checked a pipeline's trigger. */
export async function updateNotification(ctx: Ctx, id: number, patch: NotificationPatch, by: 'api' | 'pipeline' = 'api'): Promise<NotificationView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  const n = await loadNotification(ctx.trx, ctx.actor.org_id, id);
  // A pipeline's trigger has its own checks (Send email's allowed triggers, the incoming
  // webhook's token, from/to filters): it changes through PATCH /v1/pipelines/{id} only.
  if (patch.triggers && n.origin === 'superannotate' && by !== 'pipeline') {
    throw new AppError('invalid_state', `Notification ${id} is a SuperAnnotate pipeline; change its trigger with PATCH /v1/pipelines/${id} {"trigger": ...}.`);
  }
  const triggers = patch.triggers ? checkTriggers(patch.triggers) : undefined;
  if (triggers) {
    for (const c of await channelsOf(ctx.trx, [id])) if (c.kind === 'webhook') checkDialectTriggers((JSON.parse(c.config) as WebhookConfig).dialect, triggers);
  }
  const row = await ctx.trx
    .updateTable('notifications')
    .set({
      title: patch.title ?? n.title,
      description: patch.description ?? n.description,
      scope: patch.scope ? JSON.stringify(await checkScope(ctx, patch.scope.projects)) : n.scope,
      triggers: triggers ? JSON.stringify(triggers) : n.triggers,
      active: patch.active === undefined ? n.active : patch.active ? 1 : 0,
      updated_at: ctx.now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return notificationView(row, await channelsOf(ctx.trx, [id]), ctx.svc.ring);
}

export async function deleteNotification(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.manageNotifications, 'delete notifications');
  await loadNotification(ctx.trx, ctx.actor.org_id, id);
  const channels = await channelsOf(ctx.trx, [id]);
  await cancelPending(ctx, channels.map((c) => c.id));
  await ctx.trx.deleteFrom('channels').where('notification_id', '=', id).execute();
  await ctx.trx.deleteFrom('notifications').where('id', '=', id).execute();
}

export async function getNotification(db: Db, ring: Keyring, orgId: number, id: number): Promise<NotificationView> {
  const n = await loadNotification(db, orgId, id);
  return notificationView(n, await channelsOf(db, [id]), ring);
}

export async function listNotifications(db: Db, ring: Keyring, orgId: number, q: PageQuery & { search?: string | undefined }): Promise<Page<NotificationView>> {
  const limit = pageLimit(q);
  let query = db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('id', '>', decodeCursor(q.cursor));
  if (q.search) {
    query = query.where(titleContains(q.search));
  }
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  const channels = await channelsOf(db, rows.slice(0, limit).map((r) => r.id));
  return toPage(rows, limit, (n) => notificationView(n, channels.filter((c) => c.notification_id === n.id), ring));
}
