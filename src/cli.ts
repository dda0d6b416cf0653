#!/usr/bin/env node
// labelcast serve | migrate | create-org | rotate-key
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { createOrganization } from './domain/organizations.js';
import { configuredKeyring, openConfiguredStore, prepareSecrets, rotateKey, startServer } from './server.js';
import { SealError } from './store/seal.js';
import { runDemo } from './demo.js';

const USAGE = `Usage:
  labelcast serve [--port 8080] [--host 0.0.0.0] [--data ./data] [--role all|api|worker]
                                                                  run Labelcast (SQLite under --data unless DATABASE_URL is set)
  labelcast demo [--port 0] [--exit]                              a temporary server, receiver and annotation session, to see it work
  labelcast migrate [--data ./data]                               apply database migrations, seal plaintext secrets, and exit
  labelcast rotate-key [--data ./data] [--batch 200]              re-seal every secret under LABELCAST_SECRET_KEY (opening LABELCAST_SECRET_KEY_OLD)
  labelcast create-org --name NAME --admin-email EMAIL            create an organization; prints its admin API key once
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      'admin-email': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      exit: { type: 'boolean' },
      batch: { type: 'string' },
    },
    strict: true,
  });
  if (values.help || !cmd || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === 'demo') {
    await runDemo({ port: values.port, exit: values.exit ?? false }, (l) => process.stdout.write(l + '\n'));
    return 0;
  }
  const config = loadConfig(process.env, { port: values.port, host: values.host, data: values.data, role: values.role });
  switch (cmd) {
    case 'serve': {
      const running = await startServer(config);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        running.app.log.info({ signal }, 'shutting down: no new requests or claims; finishing deliveries in flight');
        await running.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      return -1;
    }
    case 'migrate': {
      const store = await openConfiguredStore(config);
      const applied = await store.migrate();
      try {
        const sealed = await prepareSecrets(store, configuredKeyring(config));
        if (sealed > 0) process.stdout.write(`sealed ${sealed} secret value(s) stored in plaintext\n`);
      } finally {
        await store.close();
      }
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      return 0;
    }
    case 'rotate-key': {
      const batch = Number(values.batch ?? '200');
      if (!Number.isInteger(batch) || batch < 1 || batch > 10_000) throw new ConfigError(`--batch must be an integer from 1 to 10000; got '${values.batch}'.`);
      const counts = await rotateKey(config, (l) => process.stdout.write(l + '\n'), batch);
      if (counts.unopenable > 0) {
        process.stderr.write(`labelcast: ${counts.unopenable} value(s) are sealed under a key that is not configured; set LABELCAST_SECRET_KEY_OLD to that key and run rotate-key again.\n`);
        return 1;
      }
      return 0;
    }
    case 'create-org': {
      if (!values.name || !values['admin-email']) throw new ConfigError('create-org needs --name and --admin-email.');
      const store = await openConfiguredStore(config);
      await store.migrate();
      const org = await createOrganization(store, { name: values.name, admin_email: values['admin-email'] });
      await store.close();
      process.stdout.write(`organization ${org.org_id} created; admin API key (shown only now):\n  ${org.key.key}\n`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof SealError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`labelcast: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`labelcast: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
