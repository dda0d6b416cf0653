// Loading a notification's and a channel's rows within the caller's organization (a missing
// or foreign one is a 404), and cancelling the pending work of channels being removed
// (the queue's cancel transition, store/queue/cancel.ts).
import type { Db } from '../store/db.js';
import type { Ctx } from './context.js';
import { cancelForChannels } from '../store/queue/cancel.js';
import { notFound } from '../model/errors.js';

export async function loadNotification(db: Db, orgId: number, id: number) {
  const n = await db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!n) throw notFound('notification', id);
  return n;
}

export async function channelsOf(db: Db, notificationIds: number[]) {
  if (notificationIds.length === 0) return [];
  return db.selectFrom('channels').selectAll().where('notification_id', 'in', notificationIds).orderBy('id').execute();
}

export async function loadChannel(db: Db, orgId: number, id: number) {
  const c = await db.selectFrom('channels').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!c) throw notFound('channel', id);
  return c;
}

/** Pending work of removed channels is cancelled, not left unclaimable; history stays. */
export async function cancelPending(ctx: Ctx, channelIds: number[]): Promise<void> {
  await cancelForChannels(ctx.trx, channelIds, ctx.now);
}
