// Before the run: drop the PostgreSQL schemas and databases earlier runs left behind.
// Test files do not drop their own schema when they finish: a DROP SCHEMA while another
// file's Kysely migrator introspects the catalog makes that introspection fail
// ("schema … does not exist"), so dropping happens here, before anything runs.
import pg from 'pg';
import { TEST_DATABASE_URL } from './helpers/stores.js';

export default async function setup(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`The PostgreSQL tests need a server at TEST_DATABASE_URL (${TEST_DATABASE_URL}): ${(err as Error).message}`);
  }
  try {
    const schemas = await client.query<{ nspname: string }>(`select nspname from pg_namespace where nspname ~ '^t_[0-9a-f]{12}$'`);
    for (const s of schemas.rows) await client.query(`drop schema if exists ${s.nspname} cascade`);
    const dbs = await client.query<{ datname: string }>(`select datname from pg_database where datname ~ '^lc_proc_[0-9a-f]{10}$'`);
    for (const d of dbs.rows) await client.query(`drop database if exists ${d.datname} with (force)`);
  } finally {
    await client.end();
  }
}
