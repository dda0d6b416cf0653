// Completing leased deliveries: the statements the dispatcher's record stage runs in one
// transaction per batch (attempts inserted together, each delivery moved to its next state
// only while this worker still holds its lease, channel health written once per channel).
import type { Insertable } from 'kysely';
import type { Db, Tx } from '../db.js';
import type { DatabaseKind } from '../kind.js';
import type { AttemptTable } from '../schema.js';
import { move, TRANSITIONS, type Transition } from '../delivery-states.js';
import { insertRows, runRaw, type RawStatement } from '../raw.js';

const ATTEMPT_COLUMNS = [
  'delivery_id', 'channel_id', 'attempt_no', 'started_at', 'latency_ms', 'url', 'request_headers', 'request_body', 'request_body_from',
  'response_status', 'response_body', 'outcome', 'worker', 'error_kind', 'error_message', 'logs',
] as const satisfies readonly (keyof AttemptTable)[];

/** A batch's attempts, in one statement (raw.ts). */
export async function insertAttempts(trx: Tx, kind: DatabaseKind, rows: Insertable<AttemptTable>[]): Promise<void> {
  await insertRows(trx, kind, 'attempts', ATTEMPT_COLUMNS, rows);
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

// One statement for a whole batch: each row carries its transition's target and from-states,
// so the state machine (delivery-states.ts) guards every row, and only this worker's lease is
// finished: a delivery cancelled meanwhile stays cancelled (cancel is allowed from cancelled,
// so the attempt is still counted), one whose lease expired belongs to whoever claimed it
// since. Written out (raw.ts): per row, Kysely's update cost more than SQLite's own work
// (10% of the delivery-only profile against 3% executing, docs/performance.md).
const FINISH: RawStatement = {
  sqlite: `update deliveries set
      status = v.status, attempt_count = v.attempt_count, last_status = v.last_status, last_error = v.last_error,
      lease_until = null, leased_by = null, updated_at = ?,
      completed_at = case when v.status = 'pending' then deliveries.completed_at else ? end,
      retry_index = coalesce(v.retry_index, deliveries.retry_index),
      next_attempt_at = coalesce(v.next_attempt_at, deliveries.next_attempt_at)
    from (select value ->> 0 as id, value ->> 1 as status, value ->> 2 as attempt_count, value ->> 3 as last_status,
                 value ->> 4 as last_error, value ->> 5 as retry_index, value ->> 6 as next_attempt_at, value ->> 7 as from_states
          from json_each(?)) as v
    where deliveries.id = v.id and deliveries.leased_by = ? and deliveries.status in (select value from json_each(v.from_states))`,
  postgres: `update deliveries as d set
      status = v.status, attempt_count = v.attempt_count, last_status = v.last_status, last_error = v.last_error,
      lease_until = null, leased_by = null, updated_at = $1,
      completed_at = case when v.status = 'pending' then d.completed_at else $1::bigint end,
      retry_index = coalesce(v.retry_index, d.retry_index),
      next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at)
    from unnest($2::bigint[], $3::text[], $4::integer[], $5::integer[], $6::text[], $7::integer[], $8::bigint[], $9::text[])
         as v(id, status, attempt_count, last_status, last_error, retry_index, next_attempt_at, from_states)
    where d.id = v.id and d.leased_by = $10 and d.status = any(string_to_array(v.from_states, ','))`,
};

/** Finishes a batch's leased deliveries, each to its own next state, in one statement. */
export async function finishLeasedAll(trx: Tx, kind: DatabaseKind, workerId: string, all: Finish[], now: number): Promise<void> {
  for (let i = 0; i < all.length; i += 500) {
    const part = all.slice(i, i + 500);
    const row = (f: Finish) => [f.id, TRANSITIONS[f.transition].to, f.attemptCount, f.lastStatus, f.lastError, f.retryIndex ?? null, f.nextAttemptAt ?? null] as const;
    if (kind === 'sqlite') {
      await runRaw(trx, kind, FINISH, [now, now, JSON.stringify(part.map((f) => [...row(f), TRANSITIONS[f.transition].from])), workerId]);
    } else {
      const cols = part.map(row);
      const col = (k: number) => cols.map((c) => c[k]);
      await runRaw(trx, kind, FINISH, [now, col(0), col(1), col(2), col(3), col(4), col(5), col(6), part.map((f) => TRANSITIONS[f.transition].from.join(',')), workerId]);
    }
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
const HEALTH: RawStatement = {
  sqlite: 'select id, failure_streak, first_failure_at, disable_after_failures, disabled_at from channels where id in (select value from json_each(?))',
  postgres: 'select id, failure_streak, first_failure_at, disable_after_failures, disabled_at from channels where id = any($1::bigint[])',
};

export async function loadHealth(trx: Tx, kind: DatabaseKind, channelIds: number[]): Promise<Map<number, ChannelHealth>> {
  if (channelIds.length === 0) return new Map();
  const rows = await runRaw<ChannelHealth>(trx, kind, HEALTH, [kind === 'postgres' ? channelIds : JSON.stringify(channelIds)]);
  return new Map(rows.map((c) => [Number(c.id), c]));
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
