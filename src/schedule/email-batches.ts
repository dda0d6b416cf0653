// Email aggregation (seed 000: "email notifications are aggregated and sent in 5 minute
// intervals"). Routing files one email item per (event, recipient) under the window the
// event falls in; once a window has closed, this turns each recipient's items into one
// delivery. The delivery's dedupe_key is the window's key, so with any number of
// schedulers, and after a restart, a window becomes exactly one message.
import type { Store } from '../store/connect.js';
import { newDelivery } from '../domain/routing.js';
import { skipDuplicateKey } from '../store/queue/enqueue.js';

/** Items of a window whose message is already under way are moved to the open window. */
export async function closeEmailWindows(store: Store, windowMs: number, now: number, graceMs = 2000): Promise<number> {
  const closedBefore = now - windowMs - graceMs;
  const groups = await store.db
    .selectFrom('email_items')
    .select((eb) => ['org_id', 'recipient', 'window_start', eb.fn.min('channel_id').as('channel_id'), eb.fn.min('notification_id').as('notification_id'), eb.fn.countAll().as('n')])
    .where('batch_id', 'is', null)
    .where('window_start', '<=', closedBefore)
    .groupBy(['org_id', 'recipient', 'window_start'])
    .limit(200)
    .execute();
  let created = 0;
  for (const g of groups) {
    const key = `email:${g.org_id}:${g.recipient}:${g.window_start}`;
    await store.tx(async (trx) => {
      const payload = JSON.stringify({ kind: 'email_batch', recipient: g.recipient, window_start: g.window_start, window_end: Number(g.window_start) + windowMs });
      const inserted = await trx
        .insertInto('deliveries')
        .values(newDelivery({ actor: { org_id: Number(g.org_id) }, now: Date.now() }, { notification_id: Number(g.notification_id), channel_id: Number(g.channel_id) }, { event_id: null, event_type: 'email.batch', payload, dedupe_key: key }))
        .onConflict(skipDuplicateKey)
        .returning('id')
        .executeTakeFirst();
      const items = trx
        .updateTable('email_items')
        .where('org_id', '=', Number(g.org_id))
        .where('recipient', '=', g.recipient)
        .where('window_start', '=', Number(g.window_start))
        .where('batch_id', 'is', null);
      if (inserted) {
        await items.set({ batch_id: inserted.id }).execute();
        created++;
      } else {
        // Another scheduler made this window's message (or it went out already): these
        // items arrived late; they go with the recipient's next message, never lost.
        await items.set({ window_start: Math.floor(now / windowMs) * windowMs }).execute();
      }
    });
  }
  return created;
}
