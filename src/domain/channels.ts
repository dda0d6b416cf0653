// Channel commands of /v1/notifications/{id}/channels and /v1/channels/{id}: add, read,
// change, enable after failures, delete. Creating one is channel-create.ts; rotating a
// webhook's secret is secret-rotation.ts.
import type { Db } from '../store/db.js';
import type { Keyring } from '../store/seal.js';
import { openConfig, sealConfig } from '../store/sealed.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { signalWork } from './routing.js';
import { AppError } from '../model/errors.js';
import { checkHeaders, type WebhookConfig } from '../model/channel-config.js';
import type { ChannelInput, ChannelPatch } from '../model/channel-inputs.js';
import { checkUrl } from './channel-checks.js';
import { insertChannel } from './channel-create.js';
import { cancelPending, loadChannel, loadNotification } from './notification-rows.js';
import { channelView, type ChannelView, type WithSecret } from './notification-views.js';

export async function addChannel(ctx: Ctx, notificationId: number, input: ChannelInput): Promise<WithSecret<ChannelView>> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  await loadNotification(ctx.trx, ctx.actor.org_id, notificationId);
  return insertChannel(ctx, notificationId, input);
}

export async function getChannel(db: Db, ring: Keyring, orgId: number, id: number): Promise<ChannelView> {
  return channelView(await loadChannel(db, orgId, id), ring);
}

export async function updateChannel(ctx: Ctx, id: number, patch: ChannelPatch): Promise<ChannelView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  const c = await loadChannel(ctx.trx, ctx.actor.org_id, id);
  if (c.kind !== 'webhook' && (patch.url !== undefined || patch.headers !== undefined)) {
    throw new AppError('validation_failed', `url and headers belong to webhook channels; this is a ${c.kind} channel (delete it and add a new one to change where it sends).`);
  }
  const cfg = openConfig<WebhookConfig>(ctx.svc.ring, c.kind, c.config);
  const next: WebhookConfig = {
    ...cfg,
    url: patch.url === undefined ? cfg.url : checkUrl(ctx, patch.url),
    headers: patch.headers === undefined ? cfg.headers : checkHeaders(patch.headers),
  };
  // A new URL is a new endpoint: its health starts afresh and a disabled channel resumes
  // (Label Studio re-enables a webhook whose URL changes).
  const urlChanged = c.kind === 'webhook' && next.url !== cfg.url;
  const row = await ctx.trx
    .updateTable('channels')
    .set({
      config: c.kind === 'webhook' ? sealConfig(ctx.svc.ring, c.kind, next) : c.config,
      ...(urlChanged ? { failure_streak: 0, first_failure_at: null, disabled_at: null, disabled_reason: null } : {}),
      active: patch.active === undefined ? c.active : patch.active ? 1 : 0,
      max_in_flight: patch.max_in_flight ?? c.max_in_flight,
      disable_after_failures: patch.disable_after_failures === undefined ? c.disable_after_failures : patch.disable_after_failures,
      updated_at: ctx.now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (urlChanged || patch.active === true) await signalWork(ctx);
  return channelView(row, ctx.svc.ring);
}

export async function deleteChannel(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  const c = await loadChannel(ctx.trx, ctx.actor.org_id, id);
  // A Label Studio webhook or SuperAnnotate pipeline is one notification with exactly one
  // channel; deleting the channel alone left a webhook its views cannot show (GET
  // /v1/webhooks answered 500; found by the fuzz test, issue 10).
  const n = await ctx.trx.selectFrom('notifications').select('origin').where('id', '=', c.notification_id).executeTakeFirst();
  if (n && (n.origin === 'label-studio' || n.origin === 'superannotate')) {
    throw new AppError('invalid_state', `Channel ${id} belongs to a ${n.origin === 'label-studio' ? 'Label Studio webhook' : 'SuperAnnotate pipeline'}; delete that (DELETE /v1/webhooks/{id}, or DELETE /v1/actions/{id} for one action of a pipeline) instead.`);
  }
  await removeChannel(ctx, id);
}

/** Deletes a channel the caller has checked may go: its pending work is cancelled first. */
export async function removeChannel(ctx: Ctx, id: number): Promise<void> {
  await cancelPending(ctx, [id]);
  await ctx.trx.deleteFrom('channels').where('id', '=', id).execute();
}

/** Re-enables a channel disabled by failures: held deliveries become due again. */
export async function enableChannel(ctx: Ctx, id: number): Promise<ChannelView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  await loadChannel(ctx.trx, ctx.actor.org_id, id);
  const row = await ctx.trx
    .updateTable('channels')
    .set({ disabled_at: null, disabled_reason: null, failure_streak: 0, first_failure_at: null, active: 1, updated_at: ctx.now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await signalWork(ctx);
  return channelView(row, ctx.svc.ring);
}
