// Custom-action runs past their TTL end `expired` (seed 004: "it must be completed within
// 3 hours"). A status-guarded UPDATE, so every scheduler may run it at once.
import type { Db } from '../db.js';
import { move } from '../delivery-states.js';

export async function expireRuns(db: Db, channelId: number, ttlMs: number, now: number): Promise<number> {
  const res = await move(db.updateTable('deliveries'), 'expire')
    .set({ last_error: `expired: not finished within its TTL of ${Math.round(ttlMs / 1000)} s`, lease_until: null, leased_by: null, updated_at: now, completed_at: now })
    .where('channel_id', '=', channelId)
    .where('created_at', '<=', now - ttlMs)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
