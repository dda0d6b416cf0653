// Wires one process: open the store, migrate, bootstrap the first organization, then run
// the roles asked for: the HTTP API (api), the dispatcher and retention (worker), or both
// (all, the default: one process on an embedded SQLite file serves a team).
import { buildApp, type Api } from './api/app.js';
import { sqliteFile, type Config } from './config.js';
import type { Services } from './domain/context.js';
import { bootstrap } from './domain/organizations.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { createSandboxRunner, type SandboxRunner } from './delivery/sandbox-runner.js';
import { createMetrics } from './delivery/metrics.js';
import { pruneOnce } from './delivery/retention.js';
import { Scheduler } from './schedule/scheduler.js';
import { openStore, type Store } from './store/connect.js';

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

const RETENTION_EVERY_MS = 10 * 60 * 1000;

/** opened: a store to use instead of the configured one (tests: a PostgreSQL schema of their own). */
export async function startServer(config: Config, out: (line: string) => void = (l) => process.stdout.write(l + '\n'), opened?: Store): Promise<Running> {
  const store = opened ?? (await openConfiguredStore(config));
  await store.migrate();
  const created = await bootstrap(store, { adminKey: config.adminKey, adminEmail: config.adminEmail });
  if (created && !config.adminKey) {
    out('Labelcast: created the first organization and its admin API key (shown only now):');
    out(`  ${created.key.key}`);
    out('  Use it as: Authorization: Bearer <key>');
  }
  const worker = config.role !== 'api';
  let dispatcher: Dispatcher | null = null;
  let scheduler: Scheduler | null = null;
  const svc: Services = { store, targets: config.targets, delivery: config.delivery, messaging: config.messaging, wake: () => dispatcher?.wake() };
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

  let stopRetention = false;
  let retentionTimer: NodeJS.Timeout | null = null;
  let actionRunner: SandboxRunner | null = null;
  if (worker) {
    // Custom actions run in the sandbox's interpreter processes, started on first use; a
    // handler's fetch obeys the webhook SSRF policy, proxy and timeout.
    actionRunner = createSandboxRunner({ targets: config.targets, proxyUrl: config.delivery.proxyUrl, fetchTimeoutMs: config.delivery.timeoutMs, settings: config.delivery.actions });
    dispatcher = new Dispatcher({ svc, metrics, log: app.log, actionRunner });
    await dispatcher.start();
    scheduler = new Scheduler(svc, app.log);
    scheduler.start();
    const prune = async () => {
      try {
        const r = await pruneOnce(store, Date.now() - config.delivery.retentionMs, { stop: () => stopRetention });
        if (r.attempts + r.deliveries + r.events + r.messaging > 0) app.log.info(r, 'retention pruned old rows');
      } catch (err) {
        app.log.error({ err }, 'retention failed; will try again');
      }
      if (!stopRetention) retentionTimer = setTimeout(() => void prune(), RETENTION_EVERY_MS);
    };
    retentionTimer = setTimeout(() => void prune(), 5_000);
  }

  const url = await app.listen({ port: config.port, host: config.host });
  out(`Labelcast (${config.role}) listening on ${url} (${store.dialect}${store.dialect === 'sqlite' ? ': ' + sqliteFile(config) : ''}); API docs at ${url}/docs`);
  return {
    app,
    store,
    svc,
    dispatcher,
    url,
    async close() {
      // Order matters: stop taking requests, then stop claiming and let sends finish (or
      // hand their leases back), then close the database.
      stopRetention = true;
      if (retentionTimer) clearTimeout(retentionTimer);
      await app.close();
      await scheduler?.stop();
      await dispatcher?.stop(Math.min(config.delivery.timeoutMs, 10_000));
      // After the dispatcher: runs cut short were handed back; now stop their processes.
      await actionRunner?.close();
      await store.close();
    },
  };
}
