// Deliveries as the API shows them: list and filter, one with its attempts, resend one,
// recover a channel's failures since a time, and send a test ping.
import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { AttemptTable, DeliveryTable } from '../store/schema.js';
import { newDelivery, signalWork } from './routing.js';
import type { CanonicalEvent } from '../model/event.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { iso, isoOrNull } from '../model/views.js';
import { AppError, notFound } from '../model/errors.js';
import { uuidv7 } from '../model/ids.js';
import { recoverFailed, resendOne } from '../store/queue/resend.js';
import type { DeliveryStatus } from '../store/delivery-states.js';
import { loadChannel } from './notification-rows.js';
import { eventFromRow } from './events.js';
import { keptBodyRenderer } from '../dialects/index.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageQuery } from './paging.js';



export interface DeliveryView {
  id: number;
  notification: number;
  channel: number;
  event_id: string | null;
  event_type: string;
  status: string;
  attempt_count: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

export interface AttemptView {
  id: number;
  attempt_no: number;
  started_at: string;
  latency_ms: number;
  url: string;
  request_headers: Record<string, string>;
  request_body: string;
  response_status: number | null;
  response_body: string | null;
  outcome: string;
  worker: string;
  error_kind: string | null;
  error_message: string | null;
}

export function deliveryView(d: Selectable<DeliveryTable>): DeliveryView {
  return {
    id: d.id,
    notification: d.notification_id,
    channel: d.channel_id,
    event_id: d.event_id,
    event_type: d.event_type,
    status: d.status,
    attempt_count: d.attempt_count,
    next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
    last_status: d.last_status,
    last_error: d.last_error,
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
    completed_at: isoOrNull(d.completed_at),
  };
}

function attemptView(a: Selectable<AttemptTable>, kept: Map<string, string>): AttemptView {
  return {
    id: a.id,
    attempt_no: a.attempt_no,
    started_at: iso(a.started_at),
    latency_ms: a.latency_ms,
    url: a.url,
    request_headers: JSON.parse(a.request_headers) as Record<string, string>,
    request_body: a.request_body_from === null ? a.request_body : (kept.get(a.request_body_from) ?? a.request_body),
    response_status: a.response_status,
    response_body: a.response_body,
    outcome: a.outcome,
    worker: a.worker,
    error_kind: a.error_kind,
    error_message: a.error_message,
  };
}

export interface DeliveryQuery extends PageQuery {
  notification_id?: number | undefined;
  channel_id?: number | undefined;
  status?: DeliveryStatus | undefined;
  event_type?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
}

export async function listDeliveries(db: Db, orgId: number, q: DeliveryQuery): Promise<Page<DeliveryView>> {
  const limit = pageLimit(q);
  let query = db.selectFrom('deliveries').selectAll().where('org_id', '=', orgId).where('id', '>', decodeCursor(q.cursor));
  if (q.notification_id !== undefined) query = query.where('notification_id', '=', q.notification_id);
  if (q.channel_id !== undefined) query = query.where('channel_id', '=', q.channel_id);
  if (q.status) query = query.where('status', '=', q.status);
  if (q.event_type) query = query.where('event_type', '=', q.event_type);
  if (q.since) query = query.where('created_at', '>=', Date.parse(q.since));
  if (q.until) query = query.where('created_at', '<', Date.parse(q.until));
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  return toPage(rows, limit, deliveryView);
}

async function loadDelivery(db: Db, orgId: number, id: number) {
  const d = await db.selectFrom('deliveries').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!d) throw notFound('delivery', id);
  return d;
}

export async function getDelivery(db: Db, orgId: number, id: number): Promise<DeliveryView & { attempts: AttemptView[] }> {
  // Attempts first: an attempt and its delivery's new state commit together (delivery/
  // record.ts), so a delivery read after its attempts shows at least their effect. In the
  // other order, on PostgreSQL each statement's own snapshot could show an attempt beside
  // a delivery not yet moved on (seen: attempt_count 0 with one attempt listed).
  const attempts = await db.selectFrom('attempts').selectAll().where('delivery_id', '=', id).orderBy('id').execute();
  const d = await loadDelivery(db, orgId, id);
  const kept = await keptBodies(db, d.event_id, attempts);
  return { ...deliveryView(d), attempts: attempts.map((a) => attemptView(a, kept)) };
}

/**
 * The bodies the attempt log kept by reference (attempts.request_body_from names the kept
 * body format that renders them from the delivery's event), by format name. The event
 * outlives its deliveries' attempts (schedule/retention.ts prunes an event only once no
 * delivery of it is left), and a format's name changes with its text (KeptBody), so each is
 * rendered again exactly as it was sent. A name this version does not know (recorded by a
 * newer one) leaves the stored body, empty.
 */
async function keptBodies(db: Db, eventId: string | null, attempts: Selectable<AttemptTable>[]): Promise<Map<string, string>> {
  const kept = new Map<string, string>();
  const names = new Set(attempts.map((a) => a.request_body_from).filter((n): n is string => n !== null));
  if (names.size === 0 || eventId === null) return kept;
  const row = await db.selectFrom('events').selectAll().where('id', '=', eventId).executeTakeFirst();
  if (!row) return kept;
  const event = eventFromRow(row);
  for (const name of names) {
    const render = keptBodyRenderer(name);
    if (render) kept.set(name, render(event));
  }
  return kept;
}

/** Sends a finished delivery again, with a fresh retry schedule (Svix's "resend"). */
export async function resendDelivery(ctx: Ctx, id: number): Promise<DeliveryView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'resend deliveries');
  const d = await loadDelivery(ctx.trx, ctx.actor.org_id, id);
  if (d.status === 'pending' || d.status === 'sending') {
    throw new AppError('invalid_state', `Delivery ${id} is ${d.status} already; it will be attempted without a resend.`);
  }
  if (d.status === 'cancelled') throw new AppError('invalid_state', `Delivery ${id} was cancelled because its channel was deleted.`);
  const row = await resendOne(ctx.trx, id, ctx.now);
  if (!row) throw new AppError('invalid_state', `Delivery ${id} cannot be resent from its current state.`);
  await signalWork(ctx);
  return deliveryView(row);
}

/** Every dead-lettered delivery of a channel created since a time goes out again. */
export async function recoverChannel(ctx: Ctx, channelId: number, since: string): Promise<{ recovered: number }> {
  requireRole(ctx.actor, CAN.manageNotifications, 'recover deliveries');
  await loadChannel(ctx.trx, ctx.actor.org_id, channelId);
  const recovered = await recoverFailed(ctx.trx, channelId, Date.parse(since), ctx.now);
  if (recovered > 0) await signalWork(ctx);
  return { recovered };
}

/** A "ping" message to one channel, through the same queue, signing and attempt log. */
export async function sendTest(ctx: Ctx, channelId: number): Promise<DeliveryView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'send test messages');
  const c = await loadChannel(ctx.trx, ctx.actor.org_id, channelId);
  const id = uuidv7(ctx.now);
  const message: CanonicalEvent = {
    id,
    type: 'ping',
    occurred_at: new Date(ctx.now).toISOString(),
    org_id: ctx.actor.org_id,
    project_id: null,
    actor: { user_id: ctx.actor.user_id, email: ctx.actor.email, api_key_id: ctx.actor.api_key_id },
    data: { message: 'Test message from Labelcast: this endpoint is reachable.', notification_id: c.notification_id, channel_id: c.id, sent_by: ctx.actor.email },
  };
  const row = await ctx.trx
    .insertInto('deliveries')
    .values(newDelivery(ctx, { notification_id: c.notification_id, channel_id: c.id }, { event_id: null, event_type: 'ping', payload: JSON.stringify(message) }))
    .returningAll()
    .executeTakeFirstOrThrow();
  await signalWork(ctx);
  return deliveryView(row);
}
