// Wires one process: open the store, migrate, bootstrap the first organization, then run
// the roles asked for: the HTTP API (api), the dispatcher and retention (worker), or both
// (all, the default: one process on an embedded SQLite file serves a team).
import { buildApp } from './api/app.js';
import type { Api } from './api/http.js';
import { sqliteFile, type Config } from './config.js';
import type { Services } from './domain/context.js';
import { bootstrap } from './domain/organizations.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { createSandboxRunner, type SandboxRunner } from './delivery/sandbox-runner.js';
import { createMetrics } from './delivery/metrics.js';
import { startRetention } from './schedule/retention.js';
import { Scheduler } from './schedule/scheduler.js';
import { openStore, type Store } from './store/connect.js';
import { loadKeyring, type Keyring } from './store/seal.js';
import { checkKeyring, sealStoredSecrets, type SealCounts } from './store/sealed.js';

export interface Running {
  app: Api;
  store: Store;
  svc: Services;
  dispatcher: Dispatcher | null;
  url: string;
  close(): Promise<void>;
}

export async function openConfiguredStore(config: Config): Promise<Store> {
  return openStore(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { sqliteFile: sqliteFile(config), sqliteSync: config.sqliteSync });
}

/** The key ring from the settings, or the key file beside the SQLite file (created on first start). */
export function configuredKeyring(config: Config): Keyring {
  return loadKeyring({ LABELCAST_SECRET_KEY: config.secretKey, LABELCAST_SECRET_KEY_OLD: config.secretKeyOld }, config.dataDir);
}

/**
 * The start-up step after the migrations (docs/security.md): refuse a key that cannot open
 * this database's secrets, then seal any value still in plaintext (rows written before
 * sealing existed, or by an older process during an upgrade). Idempotent and cheap when
 * there is nothing to do: one read of each table holding secrets.
 */
export async function prepareSecrets(store: Store, ring: Keyring): Promise<number> {
  await checkKeyring(store, ring);
  const c = await sealStoredSecrets(store, ring, { mode: 'plaintext' });
  return c.sealed;
}

/**
 * `labelcast rotate-key`: re-seals every sealed value under the current key
 * (LABELCAST_SECRET_KEY) from the previous one (LABELCAST_SECRET_KEY_OLD), and seals any
 * plaintext left, in batches of rows, each row compare-and-set; safe to stop and run again.
 */
export async function rotateKey(config: Config, out: (line: string) => void, batchSize = 200): Promise<SealCounts> {
  const store = await openConfiguredStore(config);
  try {
    await store.migrate();
    const ring = configuredKeyring(config);
    if (ring.all.length === 1) out(`No LABELCAST_SECRET_KEY_OLD is set: only plaintext values can be sealed; values under another key stay as they are.`);
    out(`Re-sealing under key ${ring.current.id}${ring.all.length > 1 ? ` (also opening key ${ring.all.slice(1).map((k) => k.id).join(', ')})` : ''}, ${batchSize} rows a batch.`);
    const counts = await sealStoredSecrets(store, ring, {
      mode: 'rotate',
      batchSize,
      onBatch: (table, c) => out(`  ${table}: ${c.scanned} values, ${c.resealed} re-sealed, ${c.sealed} sealed from plaintext${c.raced ? `, ${c.raced} changed meanwhile` : ''}${c.unopenable ? `, ${c.unopenable} under an unknown key` : ''}`),
    });
    out(`Done: ${counts.scanned} values, ${counts.resealed} re-sealed, ${counts.sealed} sealed from plaintext, ${counts.raced} changed meanwhile (run again for those), ${counts.unopenable} under an unknown key.`);
    return counts;
  } finally {
    await store.close();
  }
}

/** opened: a store to use instead of the configured one (tests: a PostgreSQL schema of their own). */
export async function startServer(config: Config, out: (line: string) => void = (l) => process.stdout.write(l + '\n'), opened?: Store): Promise<Running> {
  const store = opened ?? (await openConfiguredStore(config));
  await store.migrate();
  let ring: Keyring;
  let sealedNow: number;
  try {
    ring = configuredKeyring(config);
    sealedNow = await prepareSecrets(store, ring);
  } catch (err) {
    await store.close();
    throw err;
  }
  if (sealedNow > 0) out(`Labelcast: sealed ${sealedNow} secret value(s) stored in plaintext by an earlier version.`);
  if (!config.secretKey && store.kind === 'postgres') {
    out(`Labelcast: secrets are sealed with the key file ${config.dataDir}/labelcast.key; every other process on this database needs the same key: set LABELCAST_SECRET_KEY (docs/security.md).`);
  }
  const created = await bootstrap(store, { adminKey: config.adminKey, adminEmail: config.adminEmail });
  if (created && !config.adminKey) {
    out('Labelcast: created the first organization and its admin API key (shown only now):');
    out(`  ${created.key.key}`);
    out('  Use it as: Authorization: Bearer <key>');
  }
  const worker = config.role !== 'api';
  let dispatcher: Dispatcher | null = null;
  let scheduler: Scheduler | null = null;
  let actions: SandboxRunner | null = null;
  const svc: Services = { store, targets: config.targets, delivery: config.delivery, messaging: config.messaging, ring, wake: (channels) => dispatcher?.wake(channels), handoff: () => dispatcher };
  const metrics = createMetrics(store);
  const app = await buildApp({
    svc,
    metrics,
    api: config.role !== 'worker',
    logger: { level: config.logLevel },
    bodyLimit: config.bodyLimit,
    timeouts: config.timeouts,
    ready: () => (worker && !dispatcher ? 'dispatcher not started' : null),
  });

  let stopRetention: (() => void) | null = null;
  if (worker) {
    // Custom actions run in the sandbox's interpreter processes, started on first use; a
    // handler's fetch obeys the webhook SSRF policy, proxy and timeout.
    actions = createSandboxRunner({ targets: config.targets, proxyUrl: config.delivery.proxyUrl, fetchTimeoutMs: config.delivery.timeoutMs, settings: config.delivery.actions });
    dispatcher = new Dispatcher({ svc, metrics, log: app.log, actionRunner: actions });
    await dispatcher.start();
    scheduler = new Scheduler(svc, app.log);
    scheduler.start();
    stopRetention = startRetention(store, config.delivery.retentionMs, app.log);
  }

  const url = await app.listen({ port: config.port, host: config.host });
  out(`Labelcast (${config.role}) listening on ${url} (${store.kind}${store.kind === 'sqlite' ? ': ' + sqliteFile(config) : ''}); API docs at ${url}/docs`);
  return {
    app,
    store,
    svc,
    dispatcher,
    url,
    async close() {
      // Order matters: stop taking requests, then stop claiming and let sends finish (or
      // hand their leases back), then close the database.
      stopRetention?.();
      await app.close();
      await scheduler?.stop();
      await dispatcher?.stop(Math.min(config.delivery.timeoutMs, 10_000));
      // After the dispatcher: runs cut short were handed back; now stop their processes.
      await actions?.close();
      await store.close();
    },
  };
}
