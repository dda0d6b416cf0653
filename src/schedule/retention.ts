// Retention: attempts, finished deliveries and events older than the retention period are
// deleted in small batches with a pause between them, so pruning never holds the database
// (SQLite's single writer above all) long enough to stall delivery.
import type { Store } from '../store/connect.js';
import { FINISHED_STATUSES } from '../store/delivery-states.js';

export interface PruneResult {
  attempts: number;
  deliveries: number;
  events: number;
  /** Email items already sent, outbox messages and digest-run records. */
  messaging: number;
}

const BATCH = 500;

/** Event ids grouped by how many times each occurs: one update per distinct count. */
function byCount(eventIds: string[]): Map<number, string[]> {
  const times = new Map<string, number>();
  for (const id of eventIds) times.set(id, (times.get(id) ?? 0) + 1);
  const out = new Map<number, string[]>();
  for (const [id, n] of times) {
    const ids = out.get(n);
    if (ids) ids.push(id);
    else out.set(n, [id]);
  }
  return out;
}

async function drain(step: () => Promise<number>, pauseMs: number, stop: () => boolean): Promise<number> {
  let total = 0;
  while (!stop()) {
    const n = await step();
    total += n;
    if (n < BATCH) break;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  return total;
}

export async function pruneOnce(store: Store, cutoff: number, opts: { pauseMs?: number; stop?: () => boolean } = {}): Promise<PruneResult> {
  const pause = opts.pauseMs ?? 20;
  const stop = opts.stop ?? (() => false);
  const db = store.db;
  const attempts = await drain(async () => {
    const ids = (await db.selectFrom('attempts').select('id').where('started_at', '<', cutoff).limit(BATCH).execute()).map((r) => r.id);
    if (ids.length) await db.deleteFrom('attempts').where('id', 'in', ids).execute();
    return ids.length;
  }, pause, stop);
  // A batch of deliveries goes with its attempts, and their events count them off
  // (events.deliveries_left), in one transaction.
  const deliveries = await drain(
    () =>
      store.tx(async (trx) => {
        const rows = await trx
          .selectFrom('deliveries')
          .select('id')
          .where('created_at', '<', cutoff)
          .where('status', 'in', [...FINISHED_STATUSES])
          .limit(BATCH)
          .execute();
        if (rows.length === 0) return 0;
        // Counted from what this transaction deleted, not from what it selected: another
        // process's retention may have deleted the same rows first (PostgreSQL, READ
        // COMMITTED: this delete then waits for it and finds them gone), or a user may have
        // resent one meanwhile (it is pending again and stays).
        const deleted = await trx
          .deleteFrom('deliveries')
          .where('id', 'in', rows.map((r) => r.id))
          .where('status', 'in', [...FINISHED_STATUSES])
          .returning(['id', 'event_id'])
          .execute();
        if (deleted.length > 0) await trx.deleteFrom('attempts').where('delivery_id', 'in', deleted.map((r) => r.id)).execute();
        for (const [gone, events] of byCount(deleted.map((r) => r.event_id).filter((e): e is string => e !== null))) {
          await trx.updateTable('events').set((eb) => ({ deliveries_left: eb('deliveries_left', '-', gone) })).where('id', 'in', events).execute();
        }
        return deleted.length;
      }),
    pause,
    stop,
  );
  // An event goes once no delivery of it is left (a pending one still needs its body, and an
  // attempt kept by reference is rendered from it).
  const events = await drain(async () => {
    const ids = (await db
      .selectFrom('events')
      .select('seq')
      .where('occurred_at', '<', cutoff)
      .where('deliveries_left', '=', 0)
      .limit(BATCH)
      .execute()).map((r) => r.seq);
    if (ids.length) await db.deleteFrom('events').where('seq', 'in', ids).execute();
    return ids.length;
  }, pause, stop);
  // Email items once batched, the local outbox, and the record of digest runs (a run older
  // than the retention period can no longer be "missed", so its key is not needed).
  const messaging =
    (await drain(async () => {
      const ids = (await db.selectFrom('email_items').select('id').where('created_at', '<', cutoff).where('batch_id', 'is not', null).limit(BATCH).execute()).map((r) => r.id);
      if (ids.length) await db.deleteFrom('email_items').where('id', 'in', ids).execute();
      return ids.length;
    }, pause, stop)) +
    (await drain(async () => {
      const ids = (await db.selectFrom('outbox').select('id').where('created_at', '<', cutoff).limit(BATCH).execute()).map((r) => r.id);
      if (ids.length) await db.deleteFrom('outbox').where('id', 'in', ids).execute();
      return ids.length;
    }, pause, stop)) +
    (await drain(async () => {
      const ids = (await db.selectFrom('digest_windows').select('id').where('fire_at', '<', cutoff).limit(BATCH).execute()).map((r) => r.id);
      if (ids.length) await db.deleteFrom('digest_windows').where('id', 'in', ids).execute();
      return ids.length;
    }, pause, stop));
  return { attempts, deliveries, events, messaging };
}

// Pruning runs this often in each worker process (it is idempotent: batched deletes of rows
// past the period), first 5 s after start.
const RETENTION_EVERY_MS = 10 * 60 * 1000;
const RETENTION_FIRST_MS = 5_000;

export interface RetentionLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Prunes on a timer until the returned stop function is called. */
export function startRetention(store: Store, retentionMs: number, log: RetentionLog): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const prune = async () => {
    try {
      const r = await pruneOnce(store, Date.now() - retentionMs, { stop: () => stopped });
      if (r.attempts + r.deliveries + r.events + r.messaging > 0) log.info(r, 'retention pruned old rows');
    } catch (err) {
      log.error({ err }, 'retention failed; will try again');
    }
    if (!stopped) timer = setTimeout(() => void prune(), RETENTION_EVERY_MS);
  };
  timer = setTimeout(() => void prune(), RETENTION_FIRST_MS);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
