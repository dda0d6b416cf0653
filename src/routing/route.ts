// Routing: an event becomes one delivery per matching channel, inside the transaction that
// writes the event. So a delivery exists exactly when its event does: no event is skipped or
// routed twice, whatever crashes or how many processes run, and a notification created after
// an event never receives it (it did not exist when the event committed). The unique index
// on (event_id, channel_id) backs this up.
import type { Insertable } from 'kysely';
import type { Ctx } from '../domain/context.js';
import type { DeliveryTable } from '../store/schema.js';

export interface RoutableEvent {
  id: string;
  type: string;
  project_id: number | null;
}

export interface ChannelTarget {
  channel_id: number;
  notification_id: number;
  scope: string;
  triggers: string;
}

/** Does a notification with this scope and these triggers want the event? */
export function matches(target: Pick<ChannelTarget, 'scope' | 'triggers'>, ev: RoutableEvent): boolean {
  const triggers = JSON.parse(target.triggers) as unknown[];
  if (!triggers.includes('all') && !triggers.includes(ev.type)) return false;
  const scope = JSON.parse(target.scope) as 'all' | number[];
  return scope === 'all' || (ev.project_id !== null && scope.includes(ev.project_id));
}

export async function routeEvent(ctx: Ctx, ev: RoutableEvent): Promise<number> {
  // Channels switched off by the user get nothing; channels disabled by failures still get
  // their deliveries, held until the channel is re-enabled (nothing accepted is lost).
  const targets = await ctx.trx
    .selectFrom('channels')
    .innerJoin('notifications', 'notifications.id', 'channels.notification_id')
    .select(['channels.id as channel_id', 'notifications.id as notification_id', 'notifications.scope', 'notifications.triggers'])
    .where('channels.org_id', '=', ctx.actor.org_id)
    .where('channels.active', '=', 1)
    .where('notifications.active', '=', 1)
    .where('channels.kind', '=', 'webhook')
    .execute();
  const chosen = targets.filter((t) => matches(t, ev));
  if (chosen.length === 0) return 0;
  await ctx.trx
    .insertInto('deliveries')
    .values(chosen.map((t) => newDelivery(ctx, t, { event_id: ev.id, event_type: ev.type, payload: null })))
    .execute();
  await signalWork(ctx);
  return chosen.length;
}

/** A delivery due now: for an event, or (event_id null) for a message carried in payload. */
export function newDelivery(
  ctx: Ctx,
  target: { notification_id: number; channel_id: number },
  what: { event_id: string | null; event_type: string; payload: string | null },
): Insertable<DeliveryTable> {
  return {
    org_id: ctx.actor.org_id,
    notification_id: target.notification_id,
    channel_id: target.channel_id,
    ...what,
    status: 'pending',
    attempt_count: 0,
    retry_index: 0,
    next_attempt_at: ctx.now,
    lease_until: null,
    leased_by: null,
    last_status: null,
    last_error: null,
    created_at: ctx.now,
    updated_at: ctx.now,
    completed_at: null,
  };
}

/** Wake dispatchers once per transaction, after it commits. */
export async function signalWork(ctx: Ctx): Promise<void> {
  if (ctx.afterCommit.includes(ctx.svc.wake)) return;
  ctx.afterCommit.push(ctx.svc.wake);
  await ctx.store.notifyWork(ctx.trx);
}
