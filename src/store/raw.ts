// Hot statements written out as SQL text, run without the query builder. Kysely builds and
// compiles a query's syntax tree on every call; on the delivery path that was most of the
// JavaScript the store cost (docs/performance.md: 17% of the throughput run's CPU in Kysely
// itself). A statement here has one text per database kind and a fixed shape whatever the
// batch size (lists travel as one JSON parameter on SQLite, as arrays on PostgreSQL), so
// SQLite's statement cache (connect.ts) prepares it once and reuses it. Everything that is
// not on the per-event path keeps the query builder.
import { CompiledQuery } from 'kysely';
import type { Db, Tx } from './db.js';
import type { DatabaseKind } from './kind.js';

/** One statement's text per database kind: `?` placeholders on SQLite, `$n` on PostgreSQL. */
export interface RawStatement {
  sqlite: string;
  postgres: string;
}

export function runRaw<R = unknown>(q: Db | Tx, kind: DatabaseKind, s: RawStatement, params: unknown[]): Promise<R[]> {
  return runText<R>(q, s[kind], params);
}

/**
 * Inside a SQLite group transaction (group-commit.ts) the transaction handle carries the
 * connection itself under this key: the group holds the only connection, so a statement can
 * run on it directly, without Kysely's per-query connection hand-off (its mutex, executor
 * and driver: 8% of the produce profile and of the delivery profile, docs/performance.md).
 * Outside a group there is no such key and Kysely's connection mutex still serializes.
 */
export const SQLITE_CONNECTION = Symbol('labelcast.sqliteConnection');

/** What a direct SQLite statement needs: better-sqlite3's prepare, cached by text (connect.ts). */
export interface DirectSqlite {
  prepare(text: string): { readonly reader: boolean; all(params: unknown[]): unknown[]; run(params: unknown[]): unknown };
}

/** A statement whose text the caller already chose for the database kind. */
export async function runText<R = unknown>(q: Db | Tx, text: string, params: unknown[]): Promise<R[]> {
  const direct = (q as { [SQLITE_CONNECTION]?: DirectSqlite })[SQLITE_CONNECTION];
  if (direct) {
    const stmt = direct.prepare(text);
    if (stmt.reader) return stmt.all(params) as R[];
    stmt.run(params);
    return [];
  }
  return (await q.executeQuery<R>(CompiledQuery.raw(text, params))).rows;
}

const inserts = new Map<string, string>();

/**
 * Inserts rows into a table with statements of a fixed text per (table, columns, kind):
 * SQLite runs one prepared single-row INSERT per row (local calls inside the transaction;
 * unpacking a JSON batch with json_each measured 3x slower per attempt row, whose bodies
 * are long strings); PostgreSQL sends a batch as one JSON parameter unpacked by
 * json_populate_recordset, one round trip for any number of rows. Values must be numbers,
 * strings or null.
 */
export async function insertRows<T extends object>(q: Db | Tx, kind: DatabaseKind, table: string, columns: readonly (keyof T & string)[], rows: readonly T[]): Promise<void> {
  if (rows.length === 0) return;
  const many = kind === 'postgres' && rows.length > 1;
  const key = `${kind} ${table} ${many} ${columns.join(',')}`;
  let text = inserts.get(key);
  if (text === undefined) {
    const cols = columns.join(', ');
    text = many
      ? `insert into ${table} (${cols}) select ${cols} from json_populate_recordset(null::${table}, $1::json)`
      : `insert into ${table} (${cols}) values (${columns.map((_, i) => (kind === 'postgres' ? `$${i + 1}` : '?')).join(', ')})`;
    inserts.set(key, text);
  }
  if (many) {
    await runText(q, text, [JSON.stringify(rows)]);
    return;
  }
  for (const r of rows) await runText(q, text, columns.map((c) => (r as Record<string, unknown>)[c] ?? null));
}
