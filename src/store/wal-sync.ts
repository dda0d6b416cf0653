// The fsync of a SQLite commit, off the event loop (issue 12, docs/performance.md round 4).
//
// With synchronous=FULL SQLite fsyncs the write-ahead log inside COMMIT, on the calling
// thread: Node's only thread. At 1,000 commands/s that was ~800 fsyncs a second of 0.27 ms
// each (p99 1.8 ms), the event loop blocked for 26% of the time, and every request and
// response of the dispatcher waited behind them: a ping from the same process to an idle
// receiver took 10-25 ms (p50) against 1 ms without the fsyncs. So group-commit.ts commits
// at NORMAL (the frames are written to the log, not yet synced) and then asks this module to
// fdatasync the log file on libuv's thread pool; each durable caller is answered only after
// it returns, and the connection is held until then, so no statement (and no claim) reads
// what is not yet on disk. The same fdatasync SQLite would have run, on another thread.
import fs from 'node:fs';

export type SyncLog = () => Promise<void>;

/**
 * Syncs `<file>-wal`, the write-ahead log of a SQLite database in WAL mode that this
 * process holds open. SQLite keeps the same log file while a connection is open (it deletes
 * it only when the last connection closes), but the inode is checked before each sync all
 * the same: a log replaced under us would otherwise be synced through a stale descriptor.
 */
export function walSync(file: string): SyncLog {
  const log = `${file}-wal`;
  let fd: number | null = null;
  let ino = -1;
  const descriptor = (): number => {
    const now = fs.statSync(log).ino;
    if (fd !== null && now === ino) return fd;
    if (fd !== null) fs.closeSync(fd);
    fd = fs.openSync(log, 'r');
    ino = fs.fstatSync(fd).ino;
    return fd;
  };
  return () =>
    new Promise<void>((resolve, reject) => {
      let d: number;
      try {
        d = descriptor();
      } catch (err) {
        reject(err);
        return;
      }
      fs.fdatasync(d, (err) => (err ? reject(err) : resolve()));
    });
}
