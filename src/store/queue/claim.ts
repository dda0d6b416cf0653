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
import { sql, type Selectable } from 'kysely';
import type { DeliveryTable } from '../schema.js';
import type { Store } from '../connect.js';
import { move } from '../delivery-states.js';

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
}

export async function claimDue(store: Store, o: ClaimOptions): Promise<Selectable<DeliveryTable>[]> {
  if (o.budget <= 0) return [];
  const pg = store.kind === 'postgres';
  return store.tx(async (trx) => {
    const lock = pg ? sql`for no key update of c skip locked` : sql``;
    const channels = await sql<{ id: number; max_in_flight: number; in_flight: number; min_interval_ms: number }>`
      select c.id, c.max_in_flight, c.min_interval_ms,
             (select count(*) from deliveries s where s.channel_id = c.id and s.status = 'sending') as in_flight
      from channels c
      where c.active = 1 and c.disabled_at is null
        and (c.min_interval_ms = 0 or c.last_sent_at is null or c.last_sent_at + c.min_interval_ms <= ${o.now})
        and (c.not_before is null or c.not_before <= ${o.now})
        and exists (select 1 from notifications n where n.id = c.notification_id and n.active = 1)
        and exists (select 1 from deliveries d
                    where d.channel_id = c.id and d.status = 'pending' and d.next_attempt_at <= ${o.now})
      order by case when c.id > ${o.rotateAfter} then 0 else 1 end, c.id
      limit ${o.channelLimit ?? 200}
      ${lock}`.execute(trx);

    let budget = o.budget;
    const wants: { id: number; take: number }[] = [];
    for (const c of channels.rows) {
      const free = Number(c.max_in_flight) - Number(c.in_flight);
      if (free <= 0 || budget <= 0) continue;
      const take = Math.min(free, budget);
      budget -= take;
      wants.push({ id: Number(c.id), take });
    }
    if (wants.length === 0) return [];

    const claimed: Claimed[] = [];
    // One statement per 50 channels: each part is an index range read of `take` rows.
    for (let i = 0; i < wants.length; i += 50) {
      const part = wants.slice(i, i + 50);
      const selects = part.map(
        (w) => sql`select * from (select id, channel_id from deliveries
                   where channel_id = ${w.id} and status = 'pending' and next_attempt_at <= ${o.now}
                   order by next_attempt_at, id limit ${w.take}) as q${sql.raw(String(w.id))}`,
      );
      const found = await sql<Claimed>`${sql.join(selects, sql` union all `)}`.execute(trx);
      claimed.push(...found.rows.map((r) => ({ id: Number(r.id), channel_id: Number(r.channel_id) })));
    }
    if (claimed.length === 0) return [];
    // Paced channels (Slack: about one message per second) remember when they last sent.
    const paced = channels.rows.filter((c) => Number(c.min_interval_ms) > 0 && claimed.some((x) => x.channel_id === Number(c.id))).map((c) => Number(c.id));
    if (paced.length > 0) await trx.updateTable('channels').set({ last_sent_at: o.now }).where('id', 'in', paced).execute();
    // The update returns the claimed rows whole: the prepare stage needs them, and reading
    // them back would be one more statement per claim.
    const rows: Selectable<DeliveryTable>[] = [];
    for (let i = 0; i < claimed.length; i += 500) {
      const ids = claimed.slice(i, i + 500).map((c) => c.id);
      rows.push(
        ...(await move(trx.updateTable('deliveries'), 'claim')
          .set({ lease_until: o.now + o.leaseMs, leased_by: o.workerId, updated_at: o.now })
          .where('id', 'in', ids)
          .returningAll()
          .execute()),
      );
    }
    // In claim order (channel by channel, oldest first), which RETURNING does not promise.
    const order = new Map(claimed.map((c, i) => [c.id, i]));
    return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  });
}
