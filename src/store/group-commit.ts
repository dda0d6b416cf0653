// Group commit for SQLite (issue 12). SQLite has one writer, so transactions run one after
// another anyway; with synchronous=FULL each COMMIT is an fsync. Transactions that arrive
// while another is running wait in a queue, and the queue runs as one SQLite transaction:
// each caller's function inside its own SAVEPOINT, one COMMIT (one fsync) for all of them.
//
// - Each caller is answered only after the shared COMMIT: a reply still means on disk.
// - A function that throws is rolled back to its own savepoint and its caller gets the
//   error; the others still commit.
// - If SQLite rolls the whole transaction back by itself (SQLITE_FULL, an I/O error), or the
//   COMMIT fails, every caller whose work was in it gets the error and nothing of theirs is
//   kept; callers that had not started yet go on in the next group.
// - No timer: a group is whatever queued while the previous one ran, so an idle store adds
//   no wait to a lone transaction.
// - A group made only of non-durable transactions (the dispatcher's claims and records,
//   connect.ts TxOptions) commits at synchronous=NORMAL: no fsync wait, still safe from a
//   process crash; any durable member makes the whole group FULL.
// - With `syncLog` (wal-sync.ts) a FULL group commits at NORMAL and then syncs the log on
//   libuv's thread pool before its callers are answered and before the connection is given
//   up: the same fsync, without blocking the event loop (26% of it at 1,000 commands/s).
import { sql } from 'kysely';
import type { Db, Tx } from './db.js';
import { runText, SQLITE_CONNECTION, type DirectSqlite } from './raw.js';
import type { SyncLog } from './wal-sync.js';

interface Waiting {
  fn: (trx: Tx) => Promise<unknown>;
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Most transactions in one group: bounds how long the first of them waits for its reply. */
export const MAX_GROUP = 64;

export function groupCommit(
  db: Db,
  inTransaction: () => boolean,
  sync: 'NORMAL' | 'FULL' = 'FULL',
  /** The connection, for statements run directly inside a group (raw.ts SQLITE_CONNECTION). */
  direct?: DirectSqlite,
  /** Syncs the write-ahead log off the event loop (wal-sync.ts); without it FULL syncs inline. */
  syncLog?: SyncLog,
): <T>(fn: (trx: Tx) => Promise<T>, opts?: { durable?: boolean }) => Promise<T> {
  const queue: Waiting[] = [];
  let draining = false;
  // The connection's synchronous level as this module last set it (connect.ts opens it at sync).
  let current: 'NORMAL' | 'FULL' = sync;

  let logSync = syncLog;
  /**
   * The log sync after a NORMAL commit. If it fails, whether the group is on disk is
   * unknown: its callers get the error (not "nothing was written": the rows are committed;
   * the error is not one failures.ts maps to 503), and every later group syncs inside
   * COMMIT again, where SQLite handles such failures itself.
   */
  const syncCommitted = async () => {
    try {
      await logSync!();
    } catch (err) {
      logSync = undefined;
      throw new Error(`the database log could not be synced to disk (${(err as Error).message}); this request's change may or may not be kept`, { cause: err });
    }
  };

  const drain = async () => {
    draining = true;
    try {
      while (queue.length > 0) await runGroup(queue.splice(0, MAX_GROUP));
    } finally {
      draining = false;
    }
  };

  // The group's own statements (BEGIN, COMMIT, the safety level) on the connection directly
  // when it is at hand, like the statements inside the group (raw.ts SQLITE_CONNECTION):
  // through the query builder each was one more connection hand-off, 4 to 6 per group.
  const exec = async (conn: unknown, text: string) => {
    if (direct) direct.prepare(text).run([]);
    else await sql.raw(text).execute(conn as Tx);
  };

  const setLevel = async (conn: unknown, level: 'NORMAL' | 'FULL') => {
    if (level === current) return;
    await exec(conn, `pragma synchronous = ${level}`);
    current = level;
  };

  const runGroup = async (group: Waiting[]) => {
    const open = new Set(group);
    const settle = (w: Waiting, ok: boolean, v: unknown) => {
      if (!open.delete(w)) return;
      if (ok) w.resolve(v);
      else w.reject(v);
    };
    try {
      await db.connection().execute(async (conn) => {
        // This group holds the only connection until it returns (see raw.ts).
        if (direct) (conn as unknown as Record<symbol, DirectSqlite>)[SQLITE_CONNECTION] = direct;
        // The safety level can only change outside a transaction, so it is chosen per group,
        // before BEGIN: FULL if any member must be durable (a 200-400 µs fsync on this
        // machine), else NORMAL (~20 µs). It is put back right after a relaxed group, so that
        // statements run outside groups (autocommit) stay at the configured level; and set
        // from what each group needs, so a failed restore cannot relax a durable group.
        const durable = sync === 'FULL' && group.some((w) => w.durable);
        // With syncLog a durable group commits at NORMAL too and syncs the log itself below.
        const offLoop = durable && logSync !== undefined;
        const level = sync === 'FULL' && (!durable || offLoop) ? 'NORMAL' : sync;
        await setLevel(conn, level);
        try {
          // IMMEDIATE takes the write lock up front, so a database busy in another process
          // fails at once with SQLITE_BUSY rather than midway.
          await exec(conn, 'begin immediate');
          try {
            await runInside(conn as unknown as Tx, group, open, settle, offLoop);
          } catch (err) {
            // A savepoint statement or the COMMIT failed: nothing of the group is kept.
            if (inTransaction()) await exec(conn, 'rollback').catch(() => undefined);
            throw err;
          }
        } finally {
          await setLevel(conn, sync).catch(() => undefined);
        }
      });
    } catch (err) {
      // BEGIN failed (SQLITE_BUSY), or the group was rolled back: every caller not yet
      // answered gets the error.
      for (const w of [...open]) settle(w, false, err);
    }
  };

  const runInside = async (conn: Tx, group: Waiting[], open: Set<Waiting>, settle: (w: Waiting, ok: boolean, v: unknown) => void, offLoop: boolean) => {
    const done: { w: Waiting; value: unknown }[] = [];
    for (let i = 0; i < group.length; i++) {
      const w = group[i]!;
      await runText(conn, 'savepoint g', []);
      try {
        const value = await w.fn(conn);
        await runText(conn, 'release g', []);
        done.push({ w, value });
      } catch (err) {
        if (!inTransaction()) {
          // SQLite rolled the whole transaction back: the work of every function before
          // this one is gone with it. Their callers get the error; the ones not yet run
          // go first in the next group.
          settle(w, false, err);
          for (const d of done) settle(d.w, false, err);
          const rest = group.slice(i + 1);
          for (const r of rest) open.delete(r);
          queue.unshift(...rest);
          return;
        }
        await runText(conn, 'rollback to g', []);
        await runText(conn, 'release g', []);
        settle(w, false, err);
      }
    }
    await exec(conn, 'commit');
    if (offLoop) await syncCommitted();
    for (const d of done) settle(d.w, true, d.value);
  };

  return <T>(fn: (trx: Tx) => Promise<T>, opts?: { durable?: boolean }) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, durable: opts?.durable ?? true, resolve: resolve as (v: unknown) => void, reject });
      if (!draining) void drain();
    });
}
