// Leases handed back: the attempt under way is not counted (it may or may not have reached
// the receiver: at-least-once). store/delivery-states.ts: sending -> pending (release).
import type { Store } from '../connect.js';
import { move } from '../delivery-states.js';

/** Leases whose worker died (or, at a SQLite start, every lease): back to pending, due at once. */
export async function releaseExpired(store: Store, now: number, opts: { all?: boolean } = {}): Promise<number> {
  let q = move(store.db.updateTable('deliveries'), 'release').set({ lease_until: null, leased_by: null, next_attempt_at: now, updated_at: now });
  if (!opts.all) q = q.where('lease_until', '<=', now);
  const res = await q.executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** This worker's own leases, handed back on shutdown for others (or the next start). */
export async function releaseOwn(store: Store, workerId: string, ids: number[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await move(store.db.updateTable('deliveries'), 'release')
    .set({ lease_until: null, leased_by: null, next_attempt_at: now, updated_at: now })
    .where('id', 'in', ids)
    .where('leased_by', '=', workerId)
    .execute();
}
