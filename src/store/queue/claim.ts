// The delivery queue's claim (store/delivery-states.ts: pending -> sending): which deliveries a worker may send now. The SQL is here
// because it differs by database: PostgreSQL locks the channel rows it serves with
// FOR NO KEY UPDATE SKIP LOCKED, so two workers never decide for the same channel at the
// same moment and the in-flight cap holds across processes; SQLite has one writer, which
// serializes claims anyway.
//
// Why claim by channel rather than by the oldest due rows: a channel at its cap (or one
// with a million-row backlog) would otherwise fill every claim with rows it cannot take,
// and starve healthy channels behind it. Here each channel with due work is probed through
// deliveries_pending (channel_id, next_attempt_at over pending rows only) and gives at most
// its free slots.
import type { Selectable } from 'kysely';
import type { DeliveryTable } from '../schema.js';
import type { Store } from '../connect.js';
import { TRANSITIONS } from '../delivery-states.js';
import { runText } from '../raw.js';

export interface Claimed {
  id: number;
  channel_id: number;
}

export interface ClaimOptions {
  now: number;
  /**
   * Most deliveries to claim in total (the worker's free concurrency). A function is asked
   * inside the claim's transaction (SQLite), so that slots this process took while the claim
   * waited for the connection (a command's handoff, domain/handoff.ts) are not given twice.
   */
  budget: number | (() => number);
  /**
   * Told the claimed rows inside the claim's transaction (SQLite), or as it returns
   * (PostgreSQL), before any other transaction of this process runs: the dispatcher counts
   * them there, so that a command's handoff after the claim sees their slots taken. If the
   * claim then fails to commit it throws, and the caller gives them back.
   */
  onClaimed?: (rows: Selectable<DeliveryTable>[]) => void;
  leaseMs: number;
  workerId: string;
  /** Fairness: channels with id above this are served first, then the rest. */
  rotateAfter: number;
  /** How many channels to consider per claim. */
  channelLimit?: number;
  /**
   * Requests this worker has in flight, by channel. A channel's cap counts requests at the
   * receiver: this worker's leased rows are counted from here, so a row whose response has
   * arrived but whose attempt is not recorded yet frees its slot at once; other workers'
   * leased rows are counted from the database, answered or not (never more than the cap).
   */
  ownInFlight?: ReadonlyMap<number, number>;
}

// Which channels have due work and room for it. On PostgreSQL the channel rows are locked
// (see the top of this file); $n placeholders there, ? on SQLite, same order of parameters.
const CHANNELS_WITH_WORK = (lock: string, p: (n: number) => string) => `
  select c.id, c.max_in_flight, c.min_interval_ms,
         (select count(*) from deliveries s where s.channel_id = c.id and s.status = 'sending'
            and (s.leased_by is null or s.leased_by <> ${p(1)})) as in_flight
  from channels c
  where c.active = 1 and c.disabled_at is null
    and (c.min_interval_ms = 0 or c.last_sent_at is null or c.last_sent_at + c.min_interval_ms <= ${p(2)})
    and (c.not_before is null or c.not_before <= ${p(2)})
    and exists (select 1 from notifications n where n.id = c.notification_id and n.active = 1)
    and exists (select 1 from deliveries d
                where d.channel_id = c.id and d.status = 'pending' and d.next_attempt_at <= ${p(2)})
  order by case when c.id > ${p(3)} then 0 else 1 end, c.id
  limit ${p(4)}
  ${lock}`;
// SQLite takes ? positionally: each use of a value is a parameter of its own.
const CHANNELS_SQLITE = CHANNELS_WITH_WORK('', () => '?');

// Per channel, its oldest due rows, one past its `take` (whether it is drained, Claim.drained):
// an index range read each (deliveries_pending).
// SQLite has no LATERAL: a union of one read per channel, one text per channel count, each
// prepared once (the statement cache in connect.ts).
type Picked = Claimed & { next_attempt_at: number };
const pickSqlite = (channels: number) =>
  Array.from({ length: channels }, (_, i) => `select * from (select id, channel_id, next_attempt_at from deliveries
    where channel_id = ? and status = 'pending' and next_attempt_at <= ? order by next_attempt_at, id limit ?) as q${i}`).join(' union all ');

// The claim itself returns the claimed rows whole: the prepare stage needs them, and reading
// them back would be one more statement per claim. On SQLite, without table statistics, the
// planner took `status in (...)` over the id list and scanned every pending row through a
// status index (then deliveries_status_due: 1.6 ms per claim of ~50 rows with a 20,000-row
// backlog against 0.46 ms for ~32 rows after, docs/performance.md); `+status` keeps it on
// the primary key.
const claimFrom = TRANSITIONS.claim.from.map((s) => `'${s}'`).join(', ');
const CLAIM_SQLITE = `update deliveries set status = '${TRANSITIONS.claim.to}', lease_until = ?, leased_by = ?, updated_at = ?
  where id in (select value from json_each(?)) and +status in (${claimFrom}) returning *`;

export interface Claim {
  /** The claimed rows, now `sending` under this worker's lease, in claim order. */
  rows: Selectable<DeliveryTable>[];
  /**
   * Whether claiming again at once could find more. False when every channel with due work
   * was filled to its cap or drained by this claim: then only a response (freeing a slot),
   * a command (new work) or time (a retry falling due) can change that, and each of those
   * wakes the dispatcher. Half the claims of the deliver-only run were such a second claim,
   * finding every channel full (docs/performance.md, round 4).
   */
  more: boolean;
  /** Channels with due work that this claim left at their cap (or found there). */
  full: number[];
  /**
   * Channels left with no due row. SQLite: the claim looks one row past each channel's take,
   * so a channel whose last due rows exactly filled its free slots is named too (a channel
   * with max_in_flight 1 drains that way every time). PostgreSQL: the channels that gave
   * fewer than asked (nothing reads it there: the handoff is SQLite's).
   */
  drained: number[];
}

// PostgreSQL: the whole claim as one statement (one round trip, no BEGIN and COMMIT): the
// channels are locked and chosen (CHANNELS_WITH_WORK), each channel's take is its free
// slots up to what is left of the budget after the channels before it (the same greedy
// share as the SQLite path below), its oldest due rows are picked and moved to `sending`,
// and paced channels remember the time, all under the statement's row locks. As five round
// trips (BEGIN, channels, pick, claim, COMMIT) a claim took 6.7 ms at p50 and 30 ms at p99
// at 1,000 events/s, and deliveries waited for it (docs/performance.md, round 4). The one
// row always returned carries the channel plan as JSON, so a claim that took nothing still
// says which channels were full. (`paced` runs though nothing reads it: PostgreSQL runs
// every data-modifying WITH to completion.)
const CLAIM_PG_ONE = `with c as (${CHANNELS_WITH_WORK('for no key update of c skip locked', (n) => `$${n}`)}),
  f as (
    select c.*, row_number() over (order by case when c.id > $3 then 0 else 1 end, c.id) as ord,
           greatest(c.max_in_flight - c.in_flight - coalesce(o.n, 0), 0) as free
    from c left join unnest($5::bigint[], $6::integer[]) as o(channel_id, n) on o.channel_id = c.id),
  w as (
    select f.*, least(f.free, greatest($7 - coalesce(sum(f.free) over (order by f.ord rows between unbounded preceding and 1 preceding), 0), 0)) as take
    from f),
  picked as (
    select d.id, d.channel_id from w cross join lateral (
      select id, channel_id from deliveries
      where channel_id = w.id and status = 'pending' and next_attempt_at <= $2
      order by next_attempt_at, id limit w.take) as d
    where w.take > 0),
  claimed as (
    update deliveries set status = '${TRANSITIONS.claim.to}', lease_until = $8, leased_by = $1, updated_at = $2
    where id in (select id from picked) and status in (${claimFrom})
    returning *),
  paced as (
    update channels set last_sent_at = $2
    where min_interval_ms > 0 and id in (select channel_id from claimed))
  select p.plan, claimed.*
  from (select coalesce(json_agg(json_build_array(w.id, w.free, w.take) order by w.ord), '[]') as plan from w) as p
  left join claimed on true`;

/** A channel of the claim's plan: its free slots, and how many due rows it was asked for. */
interface Share {
  id: number;
  free: number;
  take: number;
}

/**
 * Whether claiming again at once could find more, and which channels are left full, from
 * the plan and what each channel gave (`got`): shared by both databases' claims.
 */
function outcome(plan: Share[], limit: number, got: Map<number, number>): Pick<Claim, 'more' | 'full'> {
  // A channel list cut at its limit, or a channel with room and due work that the budget
  // did not reach, means a claim right after this one could find more.
  let more = plan.length >= limit || plan.some((w) => w.free > 0 && w.take === 0);
  const full: number[] = [];
  for (const w of plan) {
    if (w.free <= 0) full.push(w.id);
    else if (w.take > 0 && got.get(w.id) === w.take) {
      // It gave all it was asked for: with room left it may have more due rows.
      if (w.take < w.free) more = true;
      else full.push(w.id);
    }
  }
  return { more, full };
}

async function claimPostgres(store: Store, o: ClaimOptions): Promise<Claim> {
  const limit = o.channelLimit ?? 200;
  const own = [...(o.ownInFlight ?? new Map<number, number>())];
  const result = await runText<Selectable<DeliveryTable> & { plan: [number, number, number][] }>(store.db, CLAIM_PG_ONE, [
    o.workerId, o.now, o.rotateAfter, limit, own.map(([c]) => c), own.map(([, n]) => n), budgetOf(o), o.now + o.leaseMs,
  ]);
  const plan: Share[] = (result[0]?.plan ?? []).map(([id, free, take]) => ({ id: Number(id), free: Number(free), take: Number(take) }));
  const rows = result.filter((r) => r.id !== null).map(({ plan: _p, ...row }) => row as Selectable<DeliveryTable>);
  const got = new Map<number, number>();
  for (const r of rows) got.set(Number(r.channel_id), (got.get(Number(r.channel_id)) ?? 0) + 1);
  // In claim order: channel by channel as planned, each oldest first.
  const at = new Map(plan.map((w, i) => [w.id, i]));
  rows.sort((a, b) => at.get(Number(a.channel_id))! - at.get(Number(b.channel_id))! || Number(a.next_attempt_at) - Number(b.next_attempt_at) || Number(a.id) - Number(b.id));
  o.onClaimed?.(rows);
  const drained = plan.filter((w) => w.take > 0 && (got.get(w.id) ?? 0) < w.take).map((w) => w.id);
  return { rows, ...outcome(plan, limit, got), drained };
}

const budgetOf = (o: ClaimOptions): number => (typeof o.budget === 'function' ? o.budget() : o.budget);

export async function claimDue(store: Store, o: ClaimOptions): Promise<Claim> {
  if (budgetOf(o) <= 0) return { rows: [], more: true, full: [], drained: [] };
  const kind = store.kind;
  if (kind === 'postgres') return claimPostgres(store, o);
  return store.tx(async (trx) => {
    const limit = o.channelLimit ?? 200;
    const budgetNow = budgetOf(o);
    if (budgetNow <= 0) return { rows: [], more: true, full: [], drained: [] };
    const channels = await runText<{ id: number; max_in_flight: number; in_flight: number; min_interval_ms: number }>(trx, CHANNELS_SQLITE, [o.workerId, o.now, o.now, o.now, o.rotateAfter, limit]);
    // The same greedy share as CLAIM_PG_ONE's: each channel its free slots, up to what is
    // left of the budget after the channels before it.
    let budget = budgetNow;
    const plan: Share[] = channels.map((c) => {
      const free = Math.max(Number(c.max_in_flight) - Number(c.in_flight) - (o.ownInFlight?.get(Number(c.id)) ?? 0), 0);
      const take = Math.min(free, budget);
      budget -= take;
      return { id: Number(c.id), free, take };
    });
    const wants = plan.filter((w) => w.take > 0);
    const claimed: Claimed[] = [];
    const drained: number[] = [];
    for (let i = 0; i < wants.length; i += 50) {
      const part = wants.slice(i, i + 50);
      const found = await runText<Picked>(trx, pickSqlite(part.length), part.flatMap((w) => [w.id, o.now, w.take + 1]));
      const byChannel = new Map<number, Picked[]>();
      for (const r of found) {
        const list = byChannel.get(Number(r.channel_id)) ?? [];
        list.push(r);
        byChannel.set(Number(r.channel_id), list);
      }
      for (const w of part) {
        // Each channel's oldest first (the union does not promise its parts' order).
        const rows = (byChannel.get(w.id) ?? []).sort((a, b) => Number(a.next_attempt_at) - Number(b.next_attempt_at) || Number(a.id) - Number(b.id));
        if (rows.length <= w.take) drained.push(w.id);
        for (const r of rows.slice(0, w.take)) claimed.push({ id: Number(r.id), channel_id: w.id });
      }
    }
    const got = new Map<number, number>();
    for (const c of claimed) got.set(c.channel_id, (got.get(c.channel_id) ?? 0) + 1);
    const result = { ...outcome(plan, limit, got), drained };
    if (claimed.length === 0) return { rows: [], ...result };
    // Paced channels (Slack: about one message per second) remember when they last sent.
    const paced = channels.filter((c) => Number(c.min_interval_ms) > 0 && got.has(Number(c.id))).map((c) => Number(c.id));
    if (paced.length > 0) await trx.updateTable('channels').set({ last_sent_at: o.now }).where('id', 'in', paced).execute();
    const rows = await runText<Selectable<DeliveryTable>>(trx, CLAIM_SQLITE, [o.now + o.leaseMs, o.workerId, o.now, JSON.stringify(claimed.map((c) => c.id))]);
    // In claim order (channel by channel, oldest first), which RETURNING does not promise.
    const order = new Map(claimed.map((c, i) => [c.id, i]));
    rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    o.onClaimed?.(rows);
    return { rows, ...result };
    // Not durable (connect.ts TxOptions): a claim lost in a power cut leaves its deliveries
    // pending, and SQLite's start releases every lease anyway (dispatcher.ts).
  }, { durable: false });
}
