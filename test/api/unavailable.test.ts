// When the database cannot take a write (here: another connection holds the lock past the
// timeout), the API answers 503 with a clear code and writes nothing; it recovers by itself
// once the lock is gone.
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFailure } from '../../src/store/failures.js';
import { KINDS, TEST_DATABASE_URL } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

async function holdWriteLock(kind: string, location: string): Promise<() => Promise<void>> {
  if (kind === 'sqlite') {
    const other = new SQLite(location);
    other.exec('BEGIN IMMEDIATE');
    return async () => {
      other.exec('ROLLBACK');
      other.close();
    };
  }
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query('BEGIN');
  await client.query(`LOCK TABLE ${location}.projects IN ACCESS EXCLUSIVE MODE`);
  return async () => {
    await client.query('ROLLBACK');
    await client.end();
  };
}

describe.each(KINDS)('database unavailable on %s', (kind) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await setupApi(kind, { busyTimeoutMs: 200 });
  });
  afterAll(async () => api?.close());

  it('answers 503 service_unavailable, writes nothing, and recovers', async () => {
    const events = async () => Number((await api.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const before = await events();
    const release = await holdWriteLock(kind, api.location);
    let res;
    try {
      res = await api.call('POST', '/v1/projects', { body: { title: 'blocked' } });
    } finally {
      await release();
    }
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('service_unavailable');
    expect(res.body.message).toMatch(/nothing was written/);
    expect(res.headers['retry-after']).toBe('5');
    expect(await events()).toBe(before);
    const ok = await api.call('POST', '/v1/projects', { body: { title: 'after' } });
    expect(ok.status).toBe(201);
    expect(await events()).toBe(before + 1);
  });
});

describe('storeFailure', () => {
  it.each([
    ['SQLITE_FULL', 'service_unavailable'],
    ['SQLITE_BUSY', 'service_unavailable'],
    ['SQLITE_IOERR_WRITE', 'service_unavailable'],
    ['53100', 'service_unavailable'],
    ['57P01', 'service_unavailable'],
    ['08006', 'service_unavailable'],
    ['ECONNREFUSED', 'service_unavailable'],
    ['23505', 'conflict'],
    ['SQLITE_CONSTRAINT_UNIQUE', 'conflict'],
  ])('%s -> %s', (code, expected) => {
    expect(storeFailure({ code, message: 'x' })?.code).toBe(expected);
  });

  it('leaves programming errors alone (they are 500s)', () => {
    expect(storeFailure({ code: '42601', message: 'syntax error' })).toBeUndefined();
    expect(storeFailure(new TypeError('x'))).toBeUndefined();
  });
});
