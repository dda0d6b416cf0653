// Wires one process: open the store, migrate, bootstrap the first organization, serve HTTP.
import { buildApp, type Api } from './api/app.js';
import { sqliteFile, type Config } from './config.js';
import { bootstrap } from './domain/organizations.js';
import { openStore, type Store } from './store/connect.js';

export interface Running {
  app: Api;
  store: Store;
  url: string;
  close(): Promise<void>;
}

export async function openConfiguredStore(config: Config): Promise<Store> {
  return openStore(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { sqliteFile: sqliteFile(config) });
}

export async function startServer(config: Config, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<Running> {
  const store = await openConfiguredStore(config);
  await store.migrate();
  const created = await bootstrap(store, { adminKey: config.adminKey, adminEmail: config.adminEmail });
  if (created && !config.adminKey) {
    out('Labelcast: created the first organization and its admin API key (shown only now):');
    out(`  ${created.key.key}`);
    out('  Use it as: Authorization: Bearer <key>');
  }
  const app = await buildApp({ store, logger: { level: config.logLevel }, bodyLimit: config.bodyLimit });
  const url = await app.listen({ port: config.port, host: config.host });
  out(`Labelcast listening on ${url} (${store.dialect}${store.dialect === 'sqlite' ? ': ' + sqliteFile(config) : ''}); API docs at ${url}/docs`);
  return {
    app,
    store,
    url,
    async close() {
      await app.close();
      await store.close();
    },
  };
}
