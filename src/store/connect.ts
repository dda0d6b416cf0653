// Opens the database: an embedded SQLite file by default, PostgreSQL when a URL is given.
// Everything that differs between the two lives in this folder; the rest of the code sees
// a Store with a Kysely instance and a transaction helper.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations.js';

export type DialectName = 'sqlite' | 'postgres';
export const WORK_CHANNEL = 'labelcast_work';
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;

export interface Store {
  readonly db: Db;
  readonly dialect: DialectName;
  /** Runs fn in one transaction: every row and event it writes commits together or not at all. */
  tx<T>(fn: (trx: Tx) => Promise<T>): Promise<T>;
  migrate(): Promise<string[]>;
  /** Serializes first-start bootstrap across processes (PostgreSQL); SQLite has one writer anyway. */
  lockForBootstrap(trx: Tx): Promise<void>;
  /** Row lock for read-modify-write inside a transaction: FOR UPDATE on PostgreSQL; SQLite's
   *  single writer connection already serializes transactions. */
  forUpdate<Q extends { forUpdate(): Q }>(q: Q): Q;
  /** PostgreSQL: NOTIFY other processes' dispatchers when this transaction commits. */
  notifyWork(trx: Tx): Promise<void>;
  /** PostgreSQL: call onWork when another process signals work; returns a stop function.
   *  Reconnects by itself after a database restart. SQLite: nothing to listen to. */
  listenForWork(onWork: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… selects PostgreSQL; otherwise sqliteFile (or :memory:) is used. */
  databaseUrl?: string;
  sqliteFile?: string;
  /** PostgreSQL only: a schema to create and use (tests isolate each file this way). */
  pgSchema?: string;
  pgPoolSize?: number;
  /** How long a write waits for a lock held elsewhere before failing with 503 (default 5 s). */
  busyTimeoutMs?: number;
}

// pg returns int8 as strings to avoid precision loss past 2^53. Our int8 values are ids and
// epoch milliseconds, far below 2^53, so numbers are exact and the domain sees one type.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openStore(opts: StoreOptions): Promise<Store> {
  const url = opts.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) return openPostgres(url, opts);
  return openSqlite(opts.sqliteFile ?? './data/labelcast.db', opts.busyTimeoutMs ?? 5000);
}

function openSqlite(file: string, busyTimeoutMs: number): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SQLite(file);
  // WAL lets readers proceed while one writer commits. synchronous=FULL makes every commit
  // durable before the API replies (DESIGN.md: "on disk before the reply"), also on power loss.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return makeStore(db, 'sqlite', async () => {
    await db.destroy();
  });
}

async function openPostgres(url: string, opts: StoreOptions): Promise<Store> {
  const schema = opts.pgSchema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  }
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create schema if not exists ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.pgPoolSize ?? 10,
    // lock_timeout bounds how long a statement waits for a row or table lock, like SQLite's
    // busy_timeout: past it the request fails with 503 instead of hanging.
    options: [schema ? `-c search_path=${schema}` : '', `-c lock_timeout=${Math.trunc(opts.busyTimeoutMs ?? 5000)}`].join(' ').trim(),
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return makeStore(db, 'postgres', async () => {
    await db.destroy();
  }, schema, (onWork) => listen(url, onWork));
}

async function listen(url: string, onWork: () => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  const connect = async (): Promise<void> => {
    while (!stopped) {
      const c = new pg.Client({ connectionString: url });
      try {
        c.on('notification', () => onWork());
        c.on('error', () => undefined);
        c.on('end', () => {
          if (client !== c) return;
          client = null;
          // The server went away: work may have been signalled meanwhile; look, then listen again.
          if (!stopped) {
            onWork();
            setTimeout(() => void connect(), 1000);
          }
        });
        await c.connect();
        await c.query(`listen ${WORK_CHANNEL}`);
        client = c;
        return;
      } catch {
        await c.end().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  await connect();
  return async () => {
    stopped = true;
    await client?.end().catch(() => undefined);
  };
}

function makeStore(
  db: Db,
  dialect: DialectName,
  close: () => Promise<void>,
  schema?: string,
  listenForWork: Store['listenForWork'] = async () => async () => undefined,
): Store {
  return {
    db,
    dialect,
    tx: (fn) => db.transaction().execute(fn),
    migrate: () => migrateToLatest(db, dialect, schema),
    lockForBootstrap: async (trx) => {
      // An arbitrary constant key for the advisory lock; released at commit.
      if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(727165001)`.execute(trx);
    },
    forUpdate: (q) => (dialect === 'postgres' ? q.forUpdate() : q),
    notifyWork: async (trx) => {
      // Delivered at commit, and only if the transaction commits: a latency hint for
      // workers in other processes; they also poll, so correctness never depends on it.
      if (dialect === 'postgres') await sql`select pg_notify(${WORK_CHANNEL}, '')`.execute(trx);
    },
    listenForWork,
    close,
  };
}
