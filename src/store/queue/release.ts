// Leases handed back: the attempt under way is not counted (it may or may not have reached
// the receiver: at-least-once). store/delivery-states.ts: sending -> pending (release).
import type { Store } from '../connect.js';
import { sql } from 'kysely';
import { move } from '../delivery-states.js';

/**
 * Leases whose worker died (or, at a SQLite start, every lease): back to pending, due at once.
 * `keep`: deliveries whose jobs the caller still holds, left alone.
 */
export async function releaseExpired(store: Store, now: number, opts: { all?: boolean; keep?: number[] } = {}): Promise<number> {
  let q = move(store.db.updateTable('deliveries'), 'release').set({ lease_until: null, leased_by: null, next_attempt_at: now, updated_at: now });
  if (!opts.all) q = q.where('lease_until', '<=', now);
  // One JSON parameter, whatever the count (SQLite allows 32,766 parameters a statement, and
  // each count would be a statement text of its own).
  if (opts.keep && opts.keep.length > 0) q = q.where('id', 'not in', sql<number>`(select value from json_each(${JSON.stringify(opts.keep)}))`);
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
