// Completing leased deliveries: the statements the dispatcher's record stage runs in one
// transaction per batch (attempts inserted together, each delivery moved to its next state
// only while this worker still holds its lease, channel health written once per channel).
import { sql, type Insertable } from 'kysely';
import type { Db, Tx } from '../db.js';
import type { DatabaseKind } from '../kind.js';
import type { AttemptTable } from '../schema.js';
import { move, TRANSITIONS, type Transition } from '../delivery-states.js';

export async function insertAttempts(trx: Tx, rows: Insertable<AttemptTable>[]): Promise<void> {
  if (rows.length > 0) await trx.insertInto('attempts').values(rows).execute();
}

export interface Finish {
  id: number;
  transition: Extract<Transition, 'succeed' | 'retry' | 'fail' | 'cancel'>;
  attemptCount: number;
  lastStatus: number | null;
  lastError: string | null;
  /** retry: the schedule's next step. */
  retryIndex?: number;
  nextAttemptAt?: number;
}

/**
 * Moves one leased delivery to its next state. Only our own lease is ours to finish: a
 * delivery cancelled meanwhile stays cancelled (cancel is allowed from cancelled, so the
 * attempt is still counted), and one whose lease expired belongs to whoever claimed it since.
 */
export async function finishLeased(trx: Tx, workerId: string, f: Finish, now: number): Promise<void> {
  const done = f.transition !== 'retry';
  await move(trx.updateTable('deliveries'), f.transition)
    .set({
      attempt_count: f.attemptCount,
      last_status: f.lastStatus,
      last_error: f.lastError,
      lease_until: null,
      leased_by: null,
      updated_at: now,
      ...(done ? { completed_at: now } : { retry_index: f.retryIndex!, next_attempt_at: f.nextAttemptAt! }),
    })
    .where('id', '=', f.id)
    .where('leased_by', '=', workerId)
    .execute();
}

/**
 * Finishes a batch's deliveries. SQLite: one prepared statement per row inside the batch's
 * transaction (local calls, no round trips). PostgreSQL: one UPDATE ... FROM (VALUES ...)
 * for the whole batch instead of a round trip per delivery; each row carries its
 * transition's from-states, so the same state machine guards it.
 */
export async function finishLeasedAll(trx: Tx, kind: DatabaseKind, workerId: string, all: Finish[], now: number): Promise<void> {
  if (kind === 'sqlite' || all.length === 1) {
    for (const f of all) await finishLeased(trx, workerId, f, now);
    return;
  }
  for (let i = 0; i < all.length; i += 500) {
    const rows = all.slice(i, i + 500).map((f) => {
      const t = TRANSITIONS[f.transition];
      return sql`(${f.id}::bigint, ${t.to}::text, ${f.attemptCount}::integer, ${f.lastStatus}::integer, ${f.lastError}::text, ${f.retryIndex ?? null}::integer, ${f.nextAttemptAt ?? null}::bigint, ${[...t.from]}::text[])`;
    });
    await sql`
      update deliveries as d set
        status = v.status, attempt_count = v.attempt_count, last_status = v.last_status, last_error = v.last_error,
        lease_until = null, leased_by = null, updated_at = ${now},
        completed_at = case when v.status = 'pending' then d.completed_at else ${now}::bigint end,
        retry_index = coalesce(v.retry_index, d.retry_index),
        next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at)
      from (values ${sql.join(rows)}) as v(id, status, attempt_count, last_status, last_error, retry_index, next_attempt_at, from_states)
      where d.id = v.id and d.leased_by = ${workerId} and d.status = any(v.from_states)`.execute(trx);
  }
}

/**
 * Ends a delivery that can never be sent (its event or channel is gone) or whose attempt
 * could not be recorded, visibly, with the reason. With a worker id, only under its lease.
 */
export async function endDelivery(db: Db | Tx, id: number, transition: 'fail' | 'cancel', reason: string, now: number, workerId?: string): Promise<void> {
  let q = move(db.updateTable('deliveries'), transition)
    .set({ last_error: reason.slice(0, 1000), lease_until: null, leased_by: null, updated_at: now, completed_at: now })
    .where('id', '=', id);
  if (workerId !== undefined) q = q.where('leased_by', '=', workerId);
  await q.execute();
}

/** A long custom-action run keeps its lease for its wall clock (see delivery/run-action.ts). */
export async function extendLease(db: Db, id: number, workerId: string, until: number): Promise<void> {
  await db.updateTable('deliveries').set({ lease_until: until }).where('id', '=', id).where('leased_by', '=', workerId).where('status', '=', 'sending').execute();
}

export interface ChannelHealth {
  id: number;
  failure_streak: number;
  first_failure_at: number | null;
  disable_after_failures: number | null;
  disabled_at: number | null;
}

/** The health of the channels a batch touched; a deleted channel is absent. */
export async function loadHealth(trx: Tx, channelIds: number[]): Promise<Map<number, ChannelHealth>> {
  if (channelIds.length === 0) return new Map();
  const rows = await trx.selectFrom('channels').select(['id', 'failure_streak', 'first_failure_at', 'disable_after_failures', 'disabled_at']).where('id', 'in', channelIds).execute();
  return new Map(rows.map((c) => [c.id, c]));
}

export async function saveHealth(trx: Tx, h: ChannelHealth, disabledReason: string | null, now: number): Promise<void> {
  await trx
    .updateTable('channels')
    .set({
      failure_streak: h.failure_streak,
      first_failure_at: h.first_failure_at,
      ...(disabledReason ? { disabled_at: h.disabled_at, disabled_reason: disabledReason } : {}),
      updated_at: now,
    })
    .where('id', '=', h.id)
    .execute();
}

/** The org's Slack channels and workspaces, to find every channel posting to one destination. */
export async function slackChannelsOf(trx: Tx, orgs: number[]) {
  const channels = await trx.selectFrom('channels').select(['id', 'org_id', 'config']).where('kind', '=', 'slack').where('org_id', 'in', orgs).execute();
  const teams = new Map((await trx.selectFrom('slack_connections').select(['id', 'team_id']).where('org_id', 'in', orgs).execute()).map((c) => [c.id, c.team_id]));
  return { channels, teams };
}

/** Nothing goes to this channel before `at` (a Retry-After); a later hold already set stays. */
export async function holdChannel(trx: Tx, channelId: number, at: number): Promise<void> {
  await trx
    .updateTable('channels')
    .set({ not_before: at })
    .where('id', '=', channelId)
    .where((eb) => eb.or([eb('not_before', 'is', null), eb('not_before', '<', at)]))
    .execute();
}
