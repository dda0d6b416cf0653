// Every store test runs on both databases. SQLite gets a fresh file in a temp directory;
// PostgreSQL gets a fresh schema in TEST_DATABASE_URL's database, dropped afterwards, so
// test files can run in parallel without seeing each other's rows.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/connect.js';
import { type DatabaseKind } from '../../src/store/kind.js';
import { keyFrom, keyring, type Keyring } from '../../src/store/seal.js';

export const KINDS: DatabaseKind[] = ['sqlite', 'postgres'];

// Not a skip switch: PostgreSQL tests always run. Without TEST_DATABASE_URL they use the
// local server every development machine here has; if it is down they fail and say so.
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A sealing key ring with a fresh random key, as a first start without a key file would make. */
export function testKeyring(): Keyring {
  return keyring(keyFrom(crypto.randomBytes(32)));
}

export interface TestStore {
  store: Store;
  /** Where the data is: the SQLite file, or the PostgreSQL schema. */
  location: string;
  cleanup(): Promise<void>;
}

export async function openTestStore(kind: DatabaseKind, opts: { busyTimeoutMs?: number } = {}): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-test-'));
    const file = path.join(dir, 'test.db');
    const store = await openStore({ sqliteFile: file, ...opts });
    await store.migrate();
    return {
      store,
      location: file,
      async cleanup() {
        await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = 't_' + crypto.randomBytes(6).toString('hex');
  let store: Store;
  try {
    store = await openStore({ databaseUrl: TEST_DATABASE_URL, pgSchema: schema, pgPoolSize: 5, ...opts });
  } catch (err) {
    throw new Error(`PostgreSQL tests need a server at TEST_DATABASE_URL (${TEST_DATABASE_URL}): ${(err as Error).message}`);
  }
  await store.migrate();
  return {
    store,
    location: schema,
    // The schema itself is dropped by the next run's global setup (test/global-setup.ts).
    async cleanup() {
      await store.close();
    },
  };
}
