// The delivery queue's claim (store/delivery-states.ts: pending -> sending): which deliveries a worker may send now. The SQL is here
// because it differs by database: PostgreSQL locks the channel rows it serves with
// FOR NO KEY UPDATE SKIP LOCKED, so two workers never decide for the same channel at the
// same moment and the in-flight cap holds across processes; SQLite has one writer, which
// serializes claims anyway.
//
// Why claim by channel rather than by the oldest due rows: a channel at its cap (or one
// with a million-row backlog) would otherwise fill every claim with rows it cannot take,
// and starve healthy channels behind it. Here each channel with due work is probed through
// the (channel_id, status, next_attempt_at) index and gives at most its free slots.
import type { Selectable } from 'kysely';
import type { DeliveryTable } from '../schema.js';
import type { Store } from '../connect.js';
import { TRANSITIONS } from '../delivery-states.js';
import { runRaw, runText, type RawStatement } from '../raw.js';

export interface Claimed {
  id: number;
  channel_id: number;
}

export interface ClaimOptions {
  now: number;
  /** Most deliveries to claim in total (the worker's free concurrency). */
  budget: number;
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
const sqliteParam = () => '?';
const CHANNELS: RawStatement = {
  // SQLite takes ? positionally: each use of a value is a parameter of its own.
  sqlite: CHANNELS_WITH_WORK('', sqliteParam),
  postgres: CHANNELS_WITH_WORK('for no key update of c skip locked', (n) => `$${n}`),
};
const channelParams = (kind: 'sqlite' | 'postgres', o: ClaimOptions) =>
  kind === 'postgres' ? [o.workerId, o.now, o.rotateAfter, o.channelLimit ?? 200] : [o.workerId, o.now, o.now, o.now, o.rotateAfter, o.channelLimit ?? 200];

// Per channel, its `take` oldest due rows: an index range read each (deliveries_channel_due).
// PostgreSQL: one statement for any number of channels (a lateral join over two arrays).
// SQLite has no LATERAL: a union of one read per channel, one text per channel count, each
// prepared once (the statement cache in connect.ts).
const PICK_PG = `select d.id, d.channel_id from unnest($1::bigint[], $2::integer[]) as w(channel_id, take)
  cross join lateral (select id, channel_id from deliveries
                      where channel_id = w.channel_id and status = 'pending' and next_attempt_at <= $3
                      order by next_attempt_at, id limit w.take) as d`;
const pickSqlite = (channels: number) =>
  Array.from({ length: channels }, (_, i) => `select * from (select id, channel_id from deliveries
    where channel_id = ? and status = 'pending' and next_attempt_at <= ? order by next_attempt_at, id limit ?) as q${i}`).join(' union all ');

// The claim itself returns the claimed rows whole: the prepare stage needs them, and reading
// them back would be one more statement per claim. On SQLite, without table statistics, the
// planner took `status in (...)` over the id list and scanned every pending row through
// deliveries_status_due (1.6 ms per claim of ~50 rows with a 20,000-row backlog against
// 0.46 ms for ~32 rows after, docs/performance.md); `+status` keeps it on the primary key.
const claimFrom = TRANSITIONS.claim.from.map((s) => `'${s}'`).join(', ');
const CLAIM: RawStatement = {
  sqlite: `update deliveries set status = '${TRANSITIONS.claim.to}', lease_until = ?, leased_by = ?, updated_at = ?
    where id in (select value from json_each(?)) and +status in (${claimFrom}) returning *`,
  postgres: `update deliveries set status = '${TRANSITIONS.claim.to}', lease_until = $1, leased_by = $2, updated_at = $3
    where id = any($4::bigint[]) and status in (${claimFrom}) returning *`,
};

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
}

export async function claimDue(store: Store, o: ClaimOptions): Promise<Claim> {
  if (o.budget <= 0) return { rows: [], more: true, full: [] };
  const kind = store.kind;
  return store.tx(async (trx) => {
    const channels = await runRaw<{ id: number; max_in_flight: number; in_flight: number; min_interval_ms: number }>(trx, kind, CHANNELS, channelParams(kind, o));

    let budget = o.budget;
    // A channel left with room and due work (the budget ran out first), or a channel list cut
    // at its limit, means a claim right after this one could find more.
    let more = channels.length >= (o.channelLimit ?? 200);
    const full: number[] = [];
    const wants: { id: number; take: number; free: number }[] = [];
    for (const c of channels) {
      const free = Number(c.max_in_flight) - Number(c.in_flight) - (o.ownInFlight?.get(Number(c.id)) ?? 0);
      if (free <= 0) {
        full.push(Number(c.id));
        continue;
      }
      if (budget <= 0) {
        more = true;
        continue;
      }
      const take = Math.min(free, budget);
      budget -= take;
      wants.push({ id: Number(c.id), take, free });
    }
    if (wants.length === 0) return { rows: [], more, full };

    const claimed: Claimed[] = [];
    for (let i = 0; i < wants.length; i += 50) {
      const part = wants.slice(i, i + 50);
      const found =
        kind === 'postgres'
          ? await runText<Claimed>(trx, PICK_PG, [part.map((w) => w.id), part.map((w) => w.take), o.now])
          : await runText<Claimed>(trx, pickSqlite(part.length), part.flatMap((w) => [w.id, o.now, w.take]));
      claimed.push(...found.map((r) => ({ id: Number(r.id), channel_id: Number(r.channel_id) })));
    }
    if (claimed.length === 0) return { rows: [], more, full };
    // A channel that gave all it was asked for and still has room may have more due rows.
    const got = new Map<number, number>();
    for (const c of claimed) got.set(c.channel_id, (got.get(c.channel_id) ?? 0) + 1);
    for (const w of wants) {
      if (got.get(w.id) !== w.take) continue;
      if (w.take < w.free) more = true;
      else full.push(w.id);
    }
    // Paced channels (Slack: about one message per second) remember when they last sent.
    const paced = channels.filter((c) => Number(c.min_interval_ms) > 0 && claimed.some((x) => x.channel_id === Number(c.id))).map((c) => Number(c.id));
    if (paced.length > 0) await trx.updateTable('channels').set({ last_sent_at: o.now }).where('id', 'in', paced).execute();
    const ids = claimed.map((c) => c.id);
    const rows = await runRaw<Selectable<DeliveryTable>>(trx, kind, CLAIM, [o.now + o.leaseMs, o.workerId, o.now, kind === 'postgres' ? ids : JSON.stringify(ids)]);
    // In claim order (channel by channel, oldest first), which RETURNING does not promise.
    const order = new Map(claimed.map((c, i) => [c.id, i]));
    return { rows: rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!), more, full };
    // Not durable (connect.ts TxOptions): a claim lost in a power cut leaves its deliveries
    // pending, and SQLite's start releases every lease anyway (dispatcher.ts).
  }, { durable: false });
}
