// Digests ("Full digest", seed 000): each notification with a digest trigger is due at its
// cron's runs (default daily 17:00 UTC), covering the window_hours before the run. A row in
// digest_windows keyed by (notification, run) is inserted in the same transaction as the
// run's deliveries: a window runs once across processes, and after downtime the latest
// missed run is sent once, late; older missed runs are not sent again.
import type { Selectable } from 'kysely';
import type { Store } from '../store/connect.js';
import type { ChannelTable, NotificationTable } from '../store/schema.js';
import { computeDigest } from '../domain/digest-stats.js';
import type { DigestPayload } from '../model/digest.js';
import { dialect } from '../dialects/index.js';
import { newDelivery } from '../domain/routing.js';
import { skipDuplicateKey } from '../store/queue/enqueue.js';
import type { WebhookConfig } from '../model/channel-config.js';
import type { DigestTrigger, Trigger } from '../model/triggers.js';
import { lastFire } from '../model/cron.js';

export function digestTrigger(n: Pick<Selectable<NotificationTable>, 'triggers'>): DigestTrigger | undefined {
  const t = (JSON.parse(n.triggers) as Trigger[]).find((x) => typeof x !== 'string' && 'digest' in x) as { digest: DigestTrigger } | undefined;
  return t?.digest;
}

/** Can this channel carry a digest? Email and Slack can; webhooks if their dialect has one. */
export function carriesDigest(c: Pick<Selectable<ChannelTable>, 'kind' | 'config'>): boolean {
  if (c.kind !== 'webhook') return true;
  return dialect((JSON.parse(c.config) as WebhookConfig).dialect).supports('digest');
}


export async function runDueDigests(store: Store, now: number): Promise<number> {
  const candidates = (await store.db.selectFrom('notifications').selectAll().where('active', '=', 1).where('triggers', 'like', '%"digest"%').execute()).filter((n) => digestTrigger(n));
  let sent = 0;
  for (const n of candidates) {
    const d = digestTrigger(n)!;
    const fire = lastFire(d, now);
    // A run before the notification existed is not owed to it.
    if (fire === null || fire < n.created_at) continue;
    const done = await store.db.selectFrom('digest_windows').select('id').where('notification_id', '=', n.id).where('fire_at', '=', fire).executeTakeFirst();
    if (done) continue;
    await store.tx(async (trx) => {
      const claimed = await trx
        .insertInto('digest_windows')
        .values({ notification_id: n.id, fire_at: fire, outcome: 'pending', created_at: now })
        .onConflict((oc) => oc.columns(['notification_id', 'fire_at']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!claimed) return; // another process took this run
      const start = fire - (d.window_hours ?? 24) * 3_600_000;
      const digest = await computeDigest(trx, n.org_id, JSON.parse(n.scope) as 'all' | number[], start, fire);
      const empty = digest.projects_stats.length === 0;
      if (empty && !d.send_empty) {
        await trx.updateTable('digest_windows').set({ outcome: 'skipped_empty' }).where('id', '=', claimed.id).execute();
        return;
      }
      const channels = (await trx.selectFrom('channels').selectAll().where('notification_id', '=', n.id).where('active', '=', 1).execute()).filter(carriesDigest);
      const payload: DigestPayload = { kind: 'digest', notification: { id: n.id, title: n.title }, ...digest };
      for (const c of channels) {
        await trx
          .insertInto('deliveries')
          .values(newDelivery({ actor: { org_id: n.org_id }, now: Date.now() }, { notification_id: n.id, channel_id: c.id }, { event_id: null, event_type: 'digest', payload: JSON.stringify(payload), dedupe_key: `digest:${n.id}:${c.id}:${fire}` }))
          .onConflict(skipDuplicateKey)
          .execute();
      }
      await trx.updateTable('digest_windows').set({ outcome: `sent to ${channels.length} channels` }).where('id', '=', claimed.id).execute();
      sent++;
    });
  }
  return sent;
}
