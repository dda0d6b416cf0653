// Periodic pipeline triggers (issue 13; SuperAnnotate's "Periodic event"): a cron schedule
// in a time zone. Each run's deliveries carry the key periodic:<pipeline>:<run>:<action>,
// inserted ON CONFLICT DO NOTHING, so a run fires once however many schedulers race for it
// and whichever restarts (the way digest windows do). After downtime the latest missed run
// fires once, late; older missed runs are not owed (as digests).
import type { Store } from '../store/connect.js';
import { firePipeline } from '../domain/pipeline-fire.js';
import { lastFire } from '../model/cron.js';
import type { EventTrigger } from '../model/triggers.js';

/** A periodic trigger as checkPipelineTrigger stores it: its cron is always there. */
type PeriodicTrigger = EventTrigger & { event: 'periodic'; cron: string };

function periodicOf(triggers: string): PeriodicTrigger | undefined {
  return (JSON.parse(triggers) as unknown[]).find((t): t is PeriodicTrigger => typeof t === 'object' && t !== null && (t as { event?: unknown }).event === 'periodic');
}

export async function runDuePeriodic(store: Store, now: number): Promise<number> {
  const candidates = await store.db.selectFrom('notifications').selectAll().where('active', '=', 1).where('triggers', 'like', '%"periodic"%').execute();
  let fired = 0;
  for (const n of candidates) {
    const t = periodicOf(n.triggers);
    if (!t) continue;
    const fire = lastFire({ cron: t.cron, tz: t.tz }, now);
    // A run before the pipeline existed is not owed to it.
    if (fire === null || fire < n.created_at) continue;
    const key = `periodic:${n.id}:${fire}`;
    // Cheap check first, by exact keys through the unique index (a LIKE prefix would scan
    // the deliveries on PostgreSQL); the insert's ON CONFLICT is what decides.
    const channels = await store.db.selectFrom('channels').select('id').where('notification_id', '=', n.id).where('active', '=', 1).execute();
    if (channels.length === 0) continue;
    const done = await store.db.selectFrom('deliveries').select('id').where('dedupe_key', 'in', channels.map((c) => `${key}:${c.id}`)).limit(1).executeTakeFirst();
    if (done) continue;
    const out = await store.tx((trx) =>
      firePipeline(trx, n, 'periodic', { fire_at: new Date(fire).toISOString(), ts_ms: fire, cron: t.cron, tz: t.tz ?? 'UTC' }, { now: Date.now(), actor: { user_id: 0, email: 'schedule', api_key_id: null }, dedupe: key }),
    );
    if (out.deliveries.length > 0) fired++;
  }
  return fired;
}
