// Deliveries of deleted channels are cancelled, not left unclaimable; their history stays.
import type { Tx } from '../db.js';
import { move } from '../delivery-states.js';

export async function cancelForChannels(trx: Tx, channelIds: number[], now: number): Promise<void> {
  if (channelIds.length === 0) return;
  await move(trx.updateTable('deliveries'), 'cancel')
    .set({ last_error: 'channel deleted', lease_until: null, updated_at: now, completed_at: now })
    .where('channel_id', 'in', channelIds)
    .where('status', 'in', ['pending', 'sending'])
    .execute();
}
