// Deliveries of deleted channels are cancelled, not left unclaimable; their history stays.
import type { Tx } from '../db.js';
import { inStatus, LIVE_STATUSES, move } from '../delivery-states.js';

export async function cancelForChannels(trx: Tx, channelIds: number[], now: number): Promise<void> {
  if (channelIds.length === 0) return;
  // One statement per live status, each through its partial index (migrations.ts, 0008):
  // a channel's finished history, however long, is not read.
  for (const status of LIVE_STATUSES) {
    await inStatus(
      move(trx.updateTable('deliveries'), 'cancel')
        .set({ last_error: 'channel deleted', lease_until: null, updated_at: now, completed_at: now })
        .where('channel_id', 'in', channelIds),
      status,
    ).execute();
  }
}
