// Sending finished deliveries again with a fresh retry schedule (Svix's "resend" and
// "recover"): back to pending, due now.
import type { Tx } from '../db.js';
import { inStatus, move } from '../delivery-states.js';

const requeue = (now: number) => ({ retry_index: 0, next_attempt_at: now, lease_until: null, leased_by: null, completed_at: null, updated_at: now });

/** One delivery; undefined when it is not in a state that can be resent. */
export async function resendOne(trx: Tx, id: number, now: number) {
  return move(trx.updateTable('deliveries'), 'resend').set(requeue(now)).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Every dead-lettered delivery of a channel created since a time; how many. */
export async function recoverFailed(trx: Tx, channelId: number, since: number, now: number): Promise<number> {
  const q = move(trx.updateTable('deliveries'), 'resend')
    .set(requeue(now))
    .where('channel_id', '=', channelId)
    .where('created_at', '>=', since);
  const res = await inStatus(q, 'failed').executeTakeFirst();
  return Number(res.numUpdatedRows);
}
