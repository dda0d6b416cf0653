// When the dispatcher's timer should next look at the queue.
import type { Store } from '../connect.js';
import { runRaw, type RawStatement } from '../raw.js';

// Written out (raw.ts): the dispatcher asks after every claim that leaves it waiting.
const NEXT_DUE: RawStatement = {
  sqlite: "select min(next_attempt_at) as at from deliveries where status = 'pending' and next_attempt_at > ?",
  postgres: "select min(next_attempt_at) as at from deliveries where status = 'pending' and next_attempt_at > $1",
};

/**
 * When the next pending delivery falls due after `now` (for the dispatcher's timer). Rows
 * already due but not claimed belong to channels that are full or disabled; a completion
 * or a re-enable wakes the dispatcher for those, so they must not make the timer spin.
 */
export async function nextDueAt(store: Store, now: number): Promise<number | null> {
  const [row] = await runRaw<{ at: number | null }>(store.db, store.kind, NEXT_DUE, [now]);
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}
