// The delivery state machine, once. Every statement that changes a delivery's status names
// one of these transitions; move() writes the new status only where the row is in one of
// the transition's `from` states, so a transition that lost a race (the delivery was
// cancelled, expired or re-claimed meanwhile) changes nothing instead of resurrecting it.
//
//   pending --claim--> sending --succeed--> succeeded
//      ^                  |----retry------> pending (next_attempt_at = the schedule's next)
//      |                  |----fail-------> failed (dead-lettered: visible, resendable)
//      |                  '----release----> pending (lease expired, or handed back on stop)
//   pending|sending --cancel--> cancelled   (its channel was deleted)
//   pending|sending --expire--> expired     (a custom-action run past its TTL, seed 004)
//   succeeded|failed|expired --resend--> pending (fresh schedule, Svix's "resend")
import { sql, type UpdateQueryBuilder, type UpdateResult } from 'kysely';
import type { Database } from './schema.js';

export const DELIVERY_STATUSES = ['pending', 'sending', 'succeeded', 'failed', 'cancelled', 'expired'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Statuses of deliveries still to be sent or being sent: each has a partial index (migration 0008). */
export const LIVE_STATUSES = ['pending', 'sending'] as const satisfies readonly DeliveryStatus[];

export const TRANSITIONS = {
  /** A worker leases a due delivery. */
  claim: { from: ['pending'], to: 'sending' },
  /** The receiver took it (2xx). */
  succeed: { from: ['sending'], to: 'succeeded' },
  /** The attempt failed and the schedule has another. */
  retry: { from: ['sending'], to: 'pending' },
  /** Dead-lettered: the schedule is spent, the receiver is gone (410), the handler failed,
   *  its event no longer exists, or its attempt could not be recorded. */
  fail: { from: ['sending'], to: 'failed' },
  /** The worker's lease lapsed or it handed the delivery back; the attempt is not counted. */
  release: { from: ['sending'], to: 'pending' },
  /** Its channel was deleted. A delivery cancelled while its request was in flight is
   *  cancelled again when the attempt is recorded (with the attempt counted). */
  cancel: { from: ['pending', 'sending', 'cancelled'], to: 'cancelled' },
  /** A custom-action run not finished within its TTL. */
  expire: { from: ['pending', 'sending'], to: 'expired' },
  /** Sent again by a user (one delivery, or a channel's failed ones after a fix). */
  resend: { from: ['succeeded', 'failed', 'expired'], to: 'pending' },
} as const satisfies Record<string, { from: readonly DeliveryStatus[]; to: DeliveryStatus }>;

export type Transition = keyof typeof TRANSITIONS;

/**
 * Statuses a delivery rests in: no transition moves it on except a user's resend (cancel's
 * move from cancelled to cancelled keeps it where it is). Derived from the table, so a new
 * status is finished or not by its transitions alone; retention prunes these.
 */
export const FINISHED_STATUSES: readonly DeliveryStatus[] = DELIVERY_STATUSES.filter(
  (s) => !Object.entries(TRANSITIONS).some(([name, t]) => name !== 'resend' && t.to !== s && (t.from as readonly DeliveryStatus[]).includes(s)),
);

type DeliveryUpdate = UpdateQueryBuilder<Database, 'deliveries', 'deliveries', UpdateResult>;

/**
 * Applies a transition to the deliveries an update already selects: sets the target status
 * and restricts the rows to the transition's `from` states. The caller adds the other columns
 * (lease, schedule, error) and its own where clauses (id, channel, lease holder).
 */
export function move<Q extends DeliveryUpdate>(q: Q, t: Transition): Q {
  const { from, to } = TRANSITIONS[t];
  const updated = q.set({ status: to });
  return (from.length === 1 ? inStatus(updated, from[0]) : updated.where('status', 'in', from.map((s) => sql.lit(s)))) as Q;
}

/**
 * Narrows a query to one status, written as a literal: the indexes over live deliveries are
 * partial (migrations.ts, 0008), and a database uses one only when the query names its status
 * as written, not as a parameter. The statuses are this file's constants, never user input.
 */
export function inStatus<Q extends { where(col: 'status', op: '=', value: unknown): Q }>(q: Q, status: DeliveryStatus): Q {
  return q.where('status', '=', sql.lit(status));
}
