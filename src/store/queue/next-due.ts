// When the dispatcher's timer should next look at the queue.
import type { Store } from '../connect.js';

/**
 * When the next pending delivery falls due after `now` (for the dispatcher's timer). Rows
 * already due but not claimed belong to channels that are full or disabled; a completion
 * or a re-enable wakes the dispatcher for those, so they must not make the timer spin.
 */
export async function nextDueAt(store: Store, now: number): Promise<number | null> {
  const row = await store.db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.min<number>('next_attempt_at').as('at'))
    .where('status', '=', 'pending')
    .where('next_attempt_at', '>', now)
    .executeTakeFirst();
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}
