// Seed 004: "Custom actions have a TTL of 3 hours ... once a custom action is triggered and
// its status changes to pending, it must be completed within 3 hours." A run (a delivery of
// an `action` channel) still pending or running past its action's TTL ends as `expired`.
// Idempotent (a status-guarded UPDATE), so every scheduler may run it.
import type { Store } from '../store/connect.js';
import { expireRuns } from '../store/queue/expire.js';

export async function expireActionRuns(store: Store, now: number): Promise<number> {
  const actions = await store.db.selectFrom('channels').select(['id', 'config']).where('kind', '=', 'action').execute();
  let expired = 0;
  for (const a of actions) {
    const ttl = (JSON.parse(a.config) as { ttl_ms?: number }).ttl_ms ?? 3 * 3600 * 1000;
    expired += await expireRuns(store.db, a.id, ttl, now);
  }
  return expired;
}
