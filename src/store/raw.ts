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
  if (!names.has(text) && names.size < MAX_NAMED) names.set(text, `lc_${names.size}`);
  return (await q.executeQuery<R>(CompiledQuery.raw(text, params))).rows;
}

// PostgreSQL: the statements above run as named prepared statements, parsed and planned once
// per connection. Sent unnamed, the server parsed and planned each one on every call: a
// project read took ~540 us a round trip unnamed against ~340 us named (3,000 calls, one
// connection, docs/performance.md round 4), on a server that shares this machine's cores with
// everything else. Only these texts are named (a fixed set, whatever the batch size): the
// query builder's texts vary with their IN lists and would fill each connection with plans.
const names = new Map<string, string>();
const MAX_NAMED = 200;

/** What the PostgreSQL driver's client offers that naming needs (pg.Client). */
interface PgClient {
  query(config: unknown, values?: unknown): unknown;
}

/**
 * Makes a pool client send the statements of this module as named prepared statements.
 * Called for every new connection (connect.ts). A named statement outlives schema changes
 * made by another process (a rolling upgrade's migration): PostgreSQL then refuses it once
 * with "cached plan must not change result type" (SQLSTATE 0A000); that client sends the
 * text unnamed from then on, so the failure is one command's, not the connection's.
 */
export function nameStatements(client: PgClient): void {
  const query = client.query.bind(client);
  const unnamed = new Set<string>();
  client.query = (config: unknown, values?: unknown) => {
    const name = typeof config === 'string' && !unnamed.has(config) ? names.get(config) : undefined;
    if (name === undefined) return query(config, values);
    const text = config as string;
    return (query({ name, text, values }) as Promise<unknown>).catch((err: { code?: string }) => {
      if (err?.code === '0A000') unnamed.add(text);
      throw err;
    });
  };
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
