// SQLite's FULL durability with the log's fsync off the event loop (store/wal-sync.ts,
// store/group-commit.ts): a durable group commits at NORMAL, then the log is synced on the
// thread pool; its callers are answered, and the connection is given up, only after that.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { groupCommit } from '../../src/store/group-commit.js';
import { walSync } from '../../src/store/wal-sync.js';
import type { Database } from '../../src/store/schema.js';

describe('the log sync of a durable group', () => {
  let dir: string;
  let file: string;
  let sqlite: SQLite.Database;
  let db: Kysely<Database>;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-walsync-'));
    file = path.join(dir, 'db.sqlite');
    sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.exec('create table t (id integer primary key, who text)');
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await db.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A log sync the test finishes by hand, counting its calls. */
  const heldSync = () => {
    const s = { calls: 0, release: () => undefined as void, fail: (_e: Error) => undefined as void };
    const fn = () =>
      new Promise<void>((resolve, reject) => {
        s.calls++;
        s.release = resolve;
        s.fail = reject;
      });
    return { s, fn };
  };
  const level = async (trx: Parameters<Parameters<ReturnType<typeof groupCommit>>[0]>[0]) =>
    Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0]!.synchronous);
  const insert = (id: number, who: string) => (trx: Parameters<Parameters<ReturnType<typeof groupCommit>>[0]>[0]) =>
    sql`insert into t (id, who) values (${id}, ${who})`.execute(trx).then(() => level(trx));

  it('answers a durable caller only after the sync, and runs nothing else on the connection meanwhile', async () => {
    const { s, fn } = heldSync();
    const tx = groupCommit(db, () => sqlite.inTransaction, 'FULL', undefined, fn);
    let answered = false;
    const command = tx(insert(1, 'command')).then((l) => {
      answered = true;
      return l;
    });
    await vi.waitFor(() => expect(s.calls).toBe(1));
    // The commit is written (at NORMAL: 1) but not synced: no answer yet, and a transaction
    // that arrives now waits for the sync rather than reading past it.
    let secondStarted = false;
    const claim = tx(async (trx) => {
      secondStarted = true;
      return insert(2, 'claim')(trx);
    }, { durable: false });
    await new Promise((r) => setTimeout(r, 30));
    expect(answered).toBe(false);
    expect(secondStarted).toBe(false);
    s.release();
    expect(await command).toBe(1);
    // A group of non-durable members only commits at NORMAL and asks for no sync.
    expect(await claim).toBe(1);
    expect(s.calls).toBe(1);
    expect(sqlite.prepare('select who from t order by id').all()).toEqual([{ who: 'command' }, { who: 'claim' }]);
  });

  it('syncs inside COMMIT (FULL) without a log sync, as before', async () => {
    const tx = groupCommit(db, () => sqlite.inTransaction, 'FULL');
    expect(await tx(insert(1, 'command'))).toBe(2);
    expect(await tx(insert(2, 'claim'), { durable: false })).toBe(1);
  });

  it('fails the callers of a group whose sync failed, and syncs inside COMMIT from then on', async () => {
    const { s, fn } = heldSync();
    const tx = groupCommit(db, () => sqlite.inTransaction, 'FULL', undefined, fn);
    const command = tx(insert(1, 'command'));
    await vi.waitFor(() => expect(s.calls).toBe(1));
    s.fail(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    // Not "nothing was written": the row is committed, whether it is on disk is unknown.
    await expect(command).rejects.toThrow(/could not be synced to disk .*may or may not be kept/);
    expect(await tx(insert(2, 'next'))).toBe(2);
    expect(s.calls).toBe(1);
  });

  it('fdatasyncs the file that is the log, and says so when there is none', async () => {
    const sync = walSync(file);
    sqlite.exec("insert into t (id, who) values (1, 'x')");
    const spy = vi.spyOn(fs, 'fdatasync');
    await sync();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(fs.fstatSync(spy.mock.calls[0]![0] as number).ino).toBe(fs.statSync(`${file}-wal`).ino);
    await expect(walSync(path.join(dir, 'missing.sqlite'))()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
