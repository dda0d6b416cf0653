// Transactions that arrive together share one commit on SQLite (store/group-commit.ts); on
// PostgreSQL each is its own. Either way a caller sees what a transaction promises: its rows
// are durable when it is answered, and a failing transaction takes only its own rows with it.
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KINDS, openTestStore, type TestStore } from '../helpers/stores.js';

describe.each(KINDS)('transactions that arrive together on %s', (kind) => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore(kind);
    await sql`create table gc_rows (id integer primary key, owner text not null)`.execute(t.store.db);
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const owners = async () => (await sql<{ owner: string }>`select owner from gc_rows order by id`.execute(t.store.db)).rows.map((r) => r.owner);

  it('commits each caller that succeeded and rolls back only the one that threw', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        t.store.tx(async (trx) => {
          await sql`insert into gc_rows (id, owner) values (${i * 10}, ${`c${i}`})`.execute(trx);
          await sql`insert into gc_rows (id, owner) values (${i * 10 + 1}, ${`c${i}`})`.execute(trx);
          if (i % 7 === 3) throw new Error(`caller ${i} fails`);
          return i;
        }),
      ),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
    expect(failed).toEqual([3, 10, 17]);
    for (const i of failed) expect((results[i] as PromiseRejectedResult).reason.message).toBe(`caller ${i} fails`);
    const rows = await owners();
    expect(rows).toHaveLength(2 * 17);
    expect(rows).not.toContain('c3');
    expect(rows).not.toContain('c10');
    expect(rows.filter((o) => o === 'c4')).toHaveLength(2);
  });

  it('answers a caller only when its row can be read by another connection', async () => {
    // SQLite: a second connection sees only committed rows (WAL), so a caller answered before
    // the shared COMMIT would find its row missing there.
    const reader = kind === 'sqlite' ? new SQLite(t.location, { readonly: true }) : null;
    const visible = async (id: number) =>
      reader
        ? reader.prepare('select 1 as one from gc_rows where id = ?').get(id) !== undefined
        : (await sql`select 1 as one from gc_rows where id = ${id}`.execute(t.store.db)).rows.length === 1;
    const seen = await Promise.all(
      Array.from({ length: 30 }, (_, i) => t.store.tx((trx) => sql`insert into gc_rows (id, owner) values (${i}, 'x')`.execute(trx)).then(() => visible(i))),
    );
    reader?.close();
    expect(seen).toEqual(Array.from({ length: 30 }, () => true));
  });

  it('keeps working after a transaction hits a constraint, and reports that error', async () => {
    await t.store.tx((trx) => sql`insert into gc_rows (id, owner) values (1, 'first')`.execute(trx));
    const [dup, ok] = await Promise.allSettled([
      t.store.tx((trx) => sql`insert into gc_rows (id, owner) values (1, 'again')`.execute(trx)),
      t.store.tx((trx) => sql`insert into gc_rows (id, owner) values (2, 'second')`.execute(trx)),
    ]);
    expect(dup.status).toBe('rejected');
    expect(String((dup as PromiseRejectedResult).reason.message)).toMatch(/unique|constraint/i);
    expect(ok.status).toBe('fulfilled');
    expect(await owners()).toEqual(['first', 'second']);
  });

  it('commits a group of non-durable transactions without an fsync, unless a durable one is in it', async () => {
    // SQLite: the level each transaction ran at, read inside it (1 NORMAL, 2 FULL), and the
    // fsyncs of the log, which a durable group runs after its COMMIT on the thread pool
    // (store/wal-sync.ts), so every group commits at NORMAL. PostgreSQL ignores the option:
    // its transactions commit as always.
    const level = async (trx: Parameters<Parameters<typeof t.store.tx>[0]>[0]) =>
      kind === 'sqlite' ? Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(trx)).rows[0]!.synchronous) : null;
    const normal = kind === 'sqlite' ? 1 : null;
    const syncs = vi.spyOn(fs, 'fdatasync');

    const alone = await t.store.tx(async (trx) => {
      await sql`insert into gc_rows (id, owner) values (1, 'claim')`.execute(trx);
      return level(trx);
    }, { durable: false });
    expect(alone).toBe(normal);
    expect(syncs).not.toHaveBeenCalled();

    // While a durable transaction runs, a non-durable and a durable one queue: they share the
    // next group, which must be FULL.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const first = t.store.tx(async (trx) => {
      await gate;
      await sql`insert into gc_rows (id, owner) values (2, 'command')`.execute(trx);
      return level(trx);
    });
    await new Promise((r) => setTimeout(r, 20));
    const relaxed = t.store.tx(async (trx) => {
      await sql`insert into gc_rows (id, owner) values (3, 'record')`.execute(trx);
      return level(trx);
    }, { durable: false });
    const durable = t.store.tx(async (trx) => {
      await sql`insert into gc_rows (id, owner) values (4, 'command')`.execute(trx);
      return level(trx);
    });
    open();
    expect(await Promise.all([first, relaxed, durable])).toEqual([normal, normal, normal]);
    // The first group and the shared one each synced the log once.
    if (kind === 'sqlite') expect(syncs).toHaveBeenCalledTimes(2);
    syncs.mockRestore();

    // Statements outside any group run at the configured level again.
    if (kind === 'sqlite') expect(Number((await sql<{ synchronous: number }>`pragma synchronous`.execute(t.store.db)).rows[0]!.synchronous)).toBe(2);
    expect(await owners()).toEqual(['claim', 'command', 'record', 'command']);
  });
});
