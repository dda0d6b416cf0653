// Custom-action runs past their TTL end `expired` (seed 004: "it must be completed within
// 3 hours"). A status-guarded UPDATE, so every scheduler may run it at once.
import type { Db } from '../db.js';
import { inStatus, move, TRANSITIONS } from '../delivery-states.js';

export async function expireRuns(db: Db, channelId: number, ttlMs: number, now: number): Promise<number> {
  let expired = 0;
  // One statement per live status, each through its partial index (migrations.ts, 0008).
  for (const status of TRANSITIONS.expire.from) {
    const res = await inStatus(
      move(db.updateTable('deliveries'), 'expire')
        .set({ last_error: `expired: not finished within its TTL of ${Math.round(ttlMs / 1000)} s`, lease_until: null, leased_by: null, updated_at: now, completed_at: now })
        .where('channel_id', '=', channelId)
        .where('created_at', '<=', now - ttlMs),
      status,
    ).executeTakeFirst();
    expired += Number(res.numUpdatedRows);
  }
  return expired;
}
