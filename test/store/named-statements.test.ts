// PostgreSQL runs the store's hot statements (raw.ts) as named prepared statements, planned
// once per connection. What must hold: they are named (not re-planned per call), the query
// builder's texts are not, and a schema change made by another process fails at most one
// command on a connection that had the statement prepared, never every later one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sql } from 'kysely';
import { openTestStore, TEST_DATABASE_URL, type TestStore } from '../helpers/stores.js';
import { eventRowsById } from '../../src/store/queue/event-rows.js';

describe('named statements on postgres', () => {
  let t: TestStore;
  beforeEach(async () => {
    t = await openTestStore('postgres');
  });
  afterEach(async () => {
    await t.cleanup();
  });

  const prepared = async () =>
    // One transaction holds one connection: the statement and the look at its prepared list.
    t.store.tx(async (trx) => {
      await eventRowsById(trx as never, 'postgres', ['none']);
      await trx.selectFrom('events').select('id').where('id', 'in', ['a', 'b']).execute();
      return (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(trx)).rows.map((r) => r.statement);
    });

  it('prepares the hot statements once per connection, and nothing the query builder writes', async () => {
    const statements = await prepared();
    expect(statements.some((s) => s.includes('from events where id = any($1::text[])'))).toBe(true);
    expect(statements.some((s) => s.includes('"id" in ($1, $2)'))).toBe(false);
  });

  it('fails one command, not every later one, when another process changes a table under a prepared statement', async () => {
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    try {
      // Every connection of the pool (5) has the statement prepared.
      await Promise.all(Array.from({ length: 5 }, () => prepared()));
      await other.query(`alter table ${t.location}.events add column note text`);
      const outcomes: string[] = [];
      for (let i = 0; i < 12; i++) {
        outcomes.push(await eventRowsById(t.store.db, 'postgres', ['none']).then(() => 'ok', (err: { code?: string }) => err.code ?? 'error'));
      }
      // At most one failure per connection that held the old plan, and then it works.
      expect(outcomes.filter((o) => o !== 'ok').every((o) => o === '0A000')).toBe(true);
      expect(outcomes.filter((o) => o !== 'ok').length).toBeLessThanOrEqual(5);
      expect(outcomes.slice(-5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    } finally {
      await other.end();
    }
  });
});
