// Settings come from the environment (and a few CLI flags); each is documented in README.md.
import path from 'node:path';
import type { HttpTimeouts } from './api/http.js';
import { parseAllowlist, type TargetPolicy } from './model/addresses.js';
import { loadDeliverySettings, type DeliverySettings } from './model/delivery-settings.js';
import { loadMessagingSettings, type MessagingSettings } from './model/messaging-settings.js';
import { keyFromBase64 } from './store/seal.js';

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  adminKey: string | undefined;
  adminEmail: string | undefined;
  logLevel: string;
  bodyLimit: number;
  role: Role;
  targets: TargetPolicy;
  delivery: DeliverySettings;
  messaging: MessagingSettings;
  sqliteSync: 'FULL' | 'NORMAL';
  timeouts: HttpTimeouts;
  /** Sealing keys (base64 of 32 bytes); without the first, a key file in dataDir (docs/security.md). */
  secretKey: string | undefined;
  secretKeyOld: string | undefined;
}

export class ConfigError extends Error {}

function int(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}; got '${value}'.`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: { port?: string | undefined; host?: string | undefined; data?: string | undefined; role?: string | undefined } = {}): Config {
  const role = flags.role ?? env.LABELCAST_ROLE ?? 'all';
  if (role !== 'api' && role !== 'worker' && role !== 'all') throw new ConfigError(`--role must be api, worker or all; got '${role}'.`);
  let targets: TargetPolicy;
  let delivery: DeliverySettings;
  let messaging: MessagingSettings;
  try {
    targets = { allowPrivate: env.LABELCAST_ALLOW_PRIVATE_TARGETS === 'true', allowlist: parseAllowlist(env.LABELCAST_ALLOWED_TARGETS) };
    delivery = loadDeliverySettings(env);
    messaging = loadMessagingSettings(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const adminKey = env.LABELCAST_ADMIN_KEY || undefined;
  if (adminKey !== undefined && adminKey.length < 16) {
    throw new ConfigError('LABELCAST_ADMIN_KEY must be at least 16 characters; leave it unset to have a key generated.');
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// URL; leave it unset to use the embedded SQLite file.');
  }
  const secretKey = checkKey('LABELCAST_SECRET_KEY', env.LABELCAST_SECRET_KEY);
  const secretKeyOld = checkKey('LABELCAST_SECRET_KEY_OLD', env.LABELCAST_SECRET_KEY_OLD);
  const requestTimeoutMs = int('LABELCAST_REQUEST_TIMEOUT_MS', env.LABELCAST_REQUEST_TIMEOUT_MS, 30_000, 1_000, 3_600_000);
  const headersTimeoutMs = int('LABELCAST_HEADERS_TIMEOUT_MS', env.LABELCAST_HEADERS_TIMEOUT_MS, 10_000, 1_000, 3_600_000);
  // Node refuses to start a server whose headers timeout exceeds its request timeout.
  if (headersTimeoutMs > requestTimeoutMs) throw new ConfigError('LABELCAST_HEADERS_TIMEOUT_MS must not exceed LABELCAST_REQUEST_TIMEOUT_MS.');
  return {
    port: int('--port / PORT', flags.port ?? env.PORT, 8080, 0, 65535),
    host: flags.host ?? env.HOST ?? '0.0.0.0',
    databaseUrl,
    dataDir: path.resolve(flags.data ?? env.LABELCAST_DATA_DIR ?? './data'),
    adminKey,
    adminEmail: env.LABELCAST_ADMIN_EMAIL || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    bodyLimit: int('LABELCAST_BODY_LIMIT', env.LABELCAST_BODY_LIMIT, 1024 * 1024, 1024, 64 * 1024 * 1024),
    role,
    targets,
    delivery,
    messaging,
    sqliteSync: sqliteSync(env.LABELCAST_SQLITE_SYNC),
    secretKey,
    secretKeyOld,
    // Slow or idle clients must not hold sockets (issue 10 defect 8); see README settings.
    timeouts: {
      requestTimeoutMs,
      headersTimeoutMs,
      keepAliveTimeoutMs: int('LABELCAST_KEEP_ALIVE_TIMEOUT_MS', env.LABELCAST_KEEP_ALIVE_TIMEOUT_MS, 5_000, 1_000, 3_600_000),
      connectionTimeoutMs: int('LABELCAST_CONNECTION_TIMEOUT_MS', env.LABELCAST_CONNECTION_TIMEOUT_MS, 60_000, 1_000, 3_600_000),
      checkIntervalMs: 1_000,
    },
  };
}

function checkKey(name: string, v: string | undefined): string | undefined {
  if (!v) return undefined;
  try {
    keyFromBase64(v);
  } catch {
    throw new ConfigError(`${name} must be the base64 of 32 random bytes (openssl rand -base64 32).`);
  }
  return v;
}

function sqliteSync(v: string | undefined): 'FULL' | 'NORMAL' {
  const s = (v ?? 'FULL').toUpperCase();
  if (s !== 'FULL' && s !== 'NORMAL') throw new ConfigError(`LABELCAST_SQLITE_SYNC must be FULL or NORMAL; got '${v}'.`);
  return s;
}

export function sqliteFile(config: Config): string {
  return path.join(config.dataDir, 'labelcast.db');
}
