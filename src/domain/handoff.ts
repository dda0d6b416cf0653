// The handoff: a command's deliveries written already leased to this process's dispatcher,
// and given to it when the command commits, instead of being written pending and claimed
// back moments later by the same process. The claim cost each delivery its channel read,
// its pick and its UPDATE (7 + 2.5 + 16 us of SQLite per event in round 6's statement
// timings, docs/performance.md), and moved two index entries of the row twice.
//
// A delivery is handed off only where the claim would have taken it at once: the channel
// has room, is not paced, disabled or held back, and no older due row of it waits (the
// store's handoffRoom asks all of it inside this transaction). Everything else is written
// pending as before and claimed. At-least-once holds as for a claim: a process killed
// after the commit leaves the rows leased, and SQLite's start releases every lease
// (delivery/dispatcher.ts). SQLite only: with several workers (PostgreSQL), the channel
// caps are kept by the claim's row locks.
import type { Insertable, Selectable } from 'kysely';
import type { Ctx } from './context.js';
import type { DeliveryTable } from '../store/schema.js';
import { handoffChannel, type HandoffChannel } from '../store/queue/handoff.js';

/** Deliveries lent to the dispatcher by one emit: told what was written, it settles at commit. */
export interface Loan {
  /** The deliveries as written leased, with their ids (store/queue/enqueue.ts writeEvent). */
  written(rows: Selectable<DeliveryTable>[]): void;
}

/**
 * Leases to this process's dispatcher those of `deliveries` it can send now (their status
 * becomes `sending`), in order; the rest stay pending. Returns null when none was leased.
 * At commit the written rows go to the dispatcher (Handoff.accept); a slot whose delivery
 * was not written, or every slot if the command does not commit, is given back.
 */
export async function lend(ctx: Ctx, deliveries: Insertable<DeliveryTable>[]): Promise<Loan | null> {
  if (ctx.store.kind !== 'sqlite' || deliveries.length === 0) return null;
  const h = ctx.svc.handoff?.();
  if (!h) return null;
  // Per channel: its room as this transaction sees it (other workers' requests), or null
  // once one of its deliveries stayed pending: a later one must not overtake it.
  const rooms = new Map<number, HandoffChannel | null>();
  const slots: number[] = [];
  for (const d of deliveries) {
    let room = rooms.get(d.channel_id);
    if (room === null) continue;
    if (!h.open(d.channel_id)) {
      rooms.set(d.channel_id, null);
      continue;
    }
    if (room === undefined) {
      room = await handoffChannel(ctx.trx, d.channel_id, h.workerId, ctx.now);
      rooms.set(d.channel_id, room);
    }
    const lease = h.reserve(d.channel_id, room?.room ?? null);
    if (!lease) {
      rooms.set(d.channel_id, null);
      continue;
    }
    d.status = 'sending';
    d.leased_by = lease.workerId;
    d.lease_until = lease.leaseUntil;
    slots.push(d.channel_id);
  }
  if (slots.length === 0) return null;
  let written: Selectable<DeliveryTable>[] = [];
  const channels = [...rooms.values()].filter((r): r is HandoffChannel => r !== null).map((r) => r.channel);
  ctx.afterCommit.push(() => {
    if (written.length > 0) h.accept(written, channels);
    // A slot whose row was not written (the write failed and the command went on without it).
    for (const c of slots.slice(written.length)) h.cancel(c);
  });
  ctx.afterRollback.push(() => {
    for (const c of slots) h.cancel(c);
  });
  return {
    written(rows) {
      written = rows;
    },
  };
}
