// Seed 004: "Custom actions have a TTL of 3 hours ... once a custom action is triggered and
// its status changes to pending, it must be completed within 3 hours." A run (a delivery of
// an `action` channel) still pending or running past its action's TTL ends as `expired`.
// Idempotent (a status-guarded UPDATE), so every scheduler may run it.
import type { Store } from '../store/connect.js';

export async function expireActionRuns(store: Store, now: number): Promise<number> {
  const actions = await store.db.selectFrom('channels').select(['id', 'config']).where('kind', '=', 'action').execute();
  let expired = 0;
  for (const a of actions) {
    const ttl = (JSON.parse(a.config) as { ttl_ms?: number }).ttl_ms ?? 3 * 3600 * 1000;
    const res = await store.db
      .updateTable('deliveries')
      .set({ status: 'expired', last_error: `expired: not finished within its TTL of ${Math.round(ttl / 1000)} s`, lease_until: null, leased_by: null, updated_at: now, completed_at: now })
      .where('channel_id', '=', a.id)
      .where('status', 'in', ['pending', 'sending'])
      .where('created_at', '<=', now - ttl)
      .executeTakeFirst();
    expired += Number(res.numUpdatedRows);
  }
  return expired;
}
