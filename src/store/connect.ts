// Opens the database: an embedded SQLite file by default, PostgreSQL when a URL is given.
// Everything that differs between the two lives in this folder; the rest of the code sees
// a Store with a Kysely instance and a transaction helper.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import type { Db, Tx } from './db.js';
import type { Database } from './schema.js';
import { migrateToLatest } from './migrations.js';
import { groupCommit } from './group-commit.js';
import { walSync } from './wal-sync.js';
import { WorkChannels } from '../model/work-signal.js';
import { nameStatements, type DirectSqlite } from './raw.js';
import { RouteCache } from './queue/routes.js';
import { RecentEvents } from './queue/event-rows.js';

import type { DatabaseKind } from './kind.js';
export const WORK_CHANNEL = 'labelcast_work';

export interface Store {
  readonly db: Db;
  readonly kind: DatabaseKind;
  /** Runs fn in one transaction: every row and event it writes commits together or not at all. */
  tx<T>(fn: (trx: Tx) => Promise<T>, opts?: TxOptions): Promise<T>;
  migrate(): Promise<string[]>;
  /** Serializes first-start bootstrap across processes (PostgreSQL); SQLite has one writer anyway. */
  lockForBootstrap(trx: Tx): Promise<void>;
  /** Row lock for read-modify-write inside a transaction: FOR UPDATE on PostgreSQL; SQLite's
   *  single writer connection already serializes transactions. */
  forUpdate<Q extends { forUpdate(): Q }>(q: Q): Q;
  /**
   * PostgreSQL: tell other processes' dispatchers that work was committed. Called after
   * commit and coalesced to one NOTIFY per few milliseconds: inside the transaction a NOTIFY
   * takes PostgreSQL's global notify lock at commit and serialized every producing
   * transaction (measured: 18% of the PostgreSQL produce rate, docs/performance.md).
   * `channels`: the channels the work is for, when known; the NOTIFY names them.
   */
  notifyWork(channels?: readonly number[]): void;
  /** PostgreSQL: call onWork when a process signals work (with the channels it named, if
   *  any); returns a stop function. Reconnects by itself after a database restart. SQLite:
   *  nothing to listen to. */
  listenForWork(onWork: (channels?: readonly number[]) => void): Promise<() => Promise<void>>;
  /** This process's copy of each organization's routes, checked against their version before use (queue/routes.ts). */
  readonly routes: RouteCache;
  /** The events this process committed lately, for its dispatcher's prepare stage (queue/event-rows.ts). */
  readonly recentEvents: RecentEvents;
  close(): Promise<void>;
}

export interface TxOptions {
  /**
   * false: the dispatcher's own bookkeeping (a claim, a batch of attempt records), whose loss
   * in a power cut only means those deliveries are sent again (at-least-once). On SQLite a
   * group made only of such transactions commits without waiting for its fsync (synchronous
   * NORMAL: written to the WAL, safe from a process crash, made durable by the next FULL
   * commit, which syncs the WAL up to itself). Commands are always durable. Default true.
   */
  durable?: boolean;
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
  /** SQLite: FULL (fsync every commit) or NORMAL (fsync at checkpoints). */
  sqliteSync?: 'NORMAL' | 'FULL';
}

// pg returns int8 as strings to avoid precision loss past 2^53. Our int8 values are ids and
// epoch milliseconds, far below 2^53, so numbers are exact and the domain sees one type.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openStore(opts: StoreOptions): Promise<Store> {
  const url = opts.databaseUrl;
  if (url && /^postgres(ql)?:\/\//.test(url)) return openPostgres(url, opts);
  return openSqlite(opts.sqliteFile ?? './data/labelcast.db', opts.busyTimeoutMs ?? 5000, opts.sqliteSync ?? 'FULL');
}

function openSqlite(file: string, busyTimeoutMs: number, sync: 'NORMAL' | 'FULL'): Store {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new SQLite(file);
  // WAL lets readers proceed while one writer commits. synchronous (LABELCAST_SQLITE_SYNC):
  // NORMAL writes each commit to the WAL before the reply, so a process crash loses nothing,
  // and fsyncs at checkpoints; FULL also fsyncs every commit, so a power cut loses nothing,
  // at a measured cost (docs/performance.md).
  const mode = sqlite.pragma('journal_mode = WAL', { simple: true });
  sqlite.pragma(`synchronous = ${sync}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  const connection = cachedStatements(sqlite);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }) });
  // Transactions by hand (group-commit.ts): when SQLite itself rolls one back (a full disk,
  // SQLITE_FULL), Kysely's own ROLLBACK then failed with "no transaction is active" and hid
  // the real error, so the API answered 500 instead of 503 (found by the disk-full drill).
  // FULL's fsync of the log runs on libuv's thread pool (wal-sync.ts): only for a file in
  // WAL mode (an in-memory database has no log to sync, and a file system without WAL
  // support leaves another journal mode, which SQLite then syncs itself).
  const syncLog = sync === 'FULL' && file !== ':memory:' && mode === 'wal' ? walSync(file) : undefined;
  const tx = groupCommit(db, () => sqlite.inTransaction, sync, connection as unknown as DirectSqlite, syncLog);
  return makeStore(db, 'sqlite', async () => {
    await db.destroy();
  }, undefined, undefined, tx);
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing was 14% of the CPU of the
 * throughput benchmark (node --cpu-prof, docs/performance.md). Queries are built from a
 * small set of shapes, so prepared statements are kept by SQL text and reused.
 */
function cachedStatements(sqlite: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = (source: string) => {
    let stmt = cache.get(source);
    if (!stmt) {
      // Bounded: SQL built with a variable number of parameters (IN lists) has many texts.
      if (cache.size >= 1000) cache.delete(cache.keys().next().value!);
      stmt = sqlite.prepare(source);
      cache.set(source, stmt);
    }
    return stmt;
  };
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop === 'prepare') return prepare;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
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
  // An idle client's connection can drop (a PostgreSQL restart, an operator's kill): the pool
  // reports it as an 'error' event, which would crash the process if nobody listened. The
  // pool replaces the client; the next query reconnects.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => nameStatements(client as never));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return makeStore(db, 'postgres', async () => {
    await db.destroy();
  }, schema, (onWork) => listen(url, onWork));
}

async function listen(url: string, onWork: (channels?: readonly number[]) => void): Promise<() => Promise<void>> {
  let stopped = false;
  let client: pg.Client | null = null;
  const connect = async (): Promise<void> => {
    while (!stopped) {
      const c = new pg.Client({ connectionString: url });
      try {
        c.on('notification', (n) => onWork(notifiedChannels(n.payload)));
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

/** A latency hint only: workers also poll, so a lost NOTIFY delays, never loses, work. */
// Most channel ids one NOTIFY names (its payload is at most 8,000 bytes); past it, or when
// a signal named none, the NOTIFY names none and every listener claims.
const NOTIFY_CHANNELS = 500;

function coalescedNotify(db: Db): (channels?: readonly number[]) => void {
  let pending: NodeJS.Timeout | null = null;
  // The channels the coalesced signals were for.
  let work = new WorkChannels();
  return (channels) => {
    work.add(channels);
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      const payload = work.list(NOTIFY_CHANNELS)?.join(',') ?? '';
      work = new WorkChannels();
      sql`select pg_notify(${WORK_CHANNEL}, ${payload})`.execute(db).catch(() => undefined);
    }, 2);
  };
}

/** The channels a work NOTIFY names (coalescedNotify); undefined: it names none. */
export function notifiedChannels(payload: string | undefined): number[] | undefined {
  if (!payload) return undefined;
  const ids = payload.split(',').map(Number);
  return ids.every((n) => Number.isSafeInteger(n) && n > 0) ? ids : undefined;
}

function makeStore(
  db: Db,
  kind: DatabaseKind,
  close: () => Promise<void>,
  schema?: string,
  listenForWork: Store['listenForWork'] = async () => async () => undefined,
  tx: Store['tx'] = (fn) => db.transaction().execute(fn),
): Store {
  return {
    db,
    kind,
    tx,
    migrate: () => migrateToLatest(db, kind, schema),
    lockForBootstrap: async (trx) => {
      // An arbitrary constant key for the advisory lock; released at commit.
      if (kind === 'postgres') await sql`select pg_advisory_xact_lock(727165001)`.execute(trx);
    },
    forUpdate: (q) => (kind === 'postgres' ? q.forUpdate() : q),
    notifyWork: kind === 'postgres' ? coalescedNotify(db) : () => undefined,
    listenForWork,
    routes: new RouteCache(),
    recentEvents: new RecentEvents(),
    close,
  };
}
