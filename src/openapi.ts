// Writes the OpenAPI document the running server would serve at /openapi.json, without
// listening or touching a database file or the key file (a throwaway key: nothing is sealed): `npm run build` feeds it to openapi-typescript so the
// console's calls are typed from the routes themselves and cannot drift from them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildApp } from './api/app.js';
import { loadDeliverySettings } from './model/delivery-settings.js';
import { loadMessagingSettings } from './model/messaging-settings.js';
import { openStore } from './store/connect.js';
import { keyFrom, keyring } from './store/seal.js';
import { randomBytes } from 'node:crypto';

export async function openApiDocument(): Promise<unknown> {
  const store = await openStore({ sqliteFile: ':memory:' });
  try {
    const app = await buildApp({
      svc: { store, targets: { allowPrivate: false, allowlist: null }, delivery: loadDeliverySettings({}), messaging: loadMessagingSettings({}), wake: () => {}, ring: keyring(keyFrom(randomBytes(32))) },
      logger: false,
    });
    await app.ready();
    const doc = app.swagger();
    await app.close();
    return doc;
  } finally {
    await store.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node dist/openapi.js <output.json>');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(await openApiDocument(), null, 2) + '\n');
}
