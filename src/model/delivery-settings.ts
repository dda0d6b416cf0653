// Delivery policy: the published retry schedule, timeouts and limits (docs/webhooks.md).
// Every value has an environment variable so an operator (and the tests) can change it.

export interface DeliverySettings {
  /** Delay before each attempt: [0] is the first attempt, then one entry per retry. */
  schedule: number[];
  /** Jitter as a fraction of each retry delay (0.2 = plus or minus 20%). */
  jitter: number;
  /** A response must complete within this many ms to count as a success. */
  timeoutMs: number;
  /** Default cap of requests in flight per channel, across all processes. */
  maxInFlight: number;
  /** Longest Retry-After (ms) honoured on 429 and 503. */
  maxRetryAfterMs: number;
  /** Disable a channel whose attempts have failed without a success for this long. */
  disableAfterMs: number;
  /** /v1/webhooks (Label Studio) webhooks are disabled after this many failures in a row. */
  labelStudioMaxFailures: number;
  /** Response bodies are recorded up to this many bytes. */
  responseBodyLimit: number;
  /** Requests in flight per worker process, across all channels. */
  workerConcurrency: number;
  /** Fallback poll interval when no wake-up arrives (LISTEN/NOTIFY is only a hint). */
  pollMs: number;
  /** Events, deliveries and attempts older than this are pruned. */
  retentionMs: number;
  /** Emails to one recipient are collected for this long and sent as one (seed 000: 5 min). */
  emailWindowMs: number;
  /** How often the scheduler looks for closed email windows and due digests. */
  scheduleTickMs: number;
  /** The Encord envelope's "source" field; Encord itself always sends "Encord". */
  encordSource: string;
  /** An HTTP(S) proxy all webhook traffic leaves through (fixed egress for allow-lists). */
  proxyUrl: string | undefined;
  /** Custom actions' sandbox (issue 13). */
  actions: ActionSettings;
}

/**
 * The operator's bounds on custom-action runs. An action's own limits (API, per action) may
 * be lower, never higher: processes x (interpreter ~60 MiB JS / ~160 MiB Python + memory)
 * is what custom actions can take from the machine (docs/custom-actions-sandbox.md).
 */
export interface ActionSettings {
  /** Interpreter processes in the pool (warm, one organization and language each). */
  processes: number;
  /** Memory a run may allocate above its interpreter's idle size (issue 13: 128 MiB). */
  memoryMiB: number;
  /** CPU time per run. */
  cpuMs: number;
  /** Wall-clock time per run, fetches included. */
  wallMs: number;
  /** Captured console/print output kept per run. */
  logBytes: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** "5s", "30m", "2h", "250ms", "0" -> milliseconds. */
export function parseDuration(text: string, name: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`${name}: '${text}' is not a duration like 250ms, 5s, 30m, 2h or 5d`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

// Svix's published schedule, which receivers of webhook services already plan for: the first
// attempt at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (about 27.6 hours in all).
export const DEFAULT_SCHEDULE = ['0', '5s', '5m', '30m', '2h', '5h', '10h', '10h'];

function proxy(url: string | undefined): string | undefined {
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`LABELCAST_HTTP_PROXY: '${url}' is not a URL like http://proxy.internal:3128`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('LABELCAST_HTTP_PROXY must be an http:// or https:// URL');
  return url;
}

export function loadDeliverySettings(env: NodeJS.ProcessEnv = process.env): DeliverySettings {
  const d = (name: string, fallback: string) => parseDuration(env[name] ?? fallback, name);
  const schedule = (env.LABELCAST_RETRY_SCHEDULE ? env.LABELCAST_RETRY_SCHEDULE.split(',') : DEFAULT_SCHEDULE).map((s) => parseDuration(s, 'LABELCAST_RETRY_SCHEDULE'));
  if (schedule.length < 1) throw new Error('LABELCAST_RETRY_SCHEDULE needs at least one entry');
  const int = (name: string, fallback: number, min: number, max: number) => {
    const v = env[name] === undefined ? fallback : Number(env[name]);
    if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
    return v;
  };
  return {
    schedule,
    jitter: 0.2,
    timeoutMs: d('LABELCAST_WEBHOOK_TIMEOUT', '30s'),
    maxInFlight: int('LABELCAST_MAX_IN_FLIGHT', 32, 1, 10_000),
    maxRetryAfterMs: d('LABELCAST_MAX_RETRY_AFTER', '1h'),
    disableAfterMs: d('LABELCAST_DISABLE_AFTER', '5d'),
    // Label Studio's own rule: a webhook is disabled after 50 consecutive failures.
    labelStudioMaxFailures: int('LABELCAST_LABEL_STUDIO_MAX_FAILURES', 50, 1, 1_000_000),
    responseBodyLimit: int('LABELCAST_RESPONSE_BODY_LIMIT', 4096, 0, 1_048_576),
    workerConcurrency: int('LABELCAST_WORKER_CONCURRENCY', 256, 1, 100_000),
    pollMs: d('LABELCAST_POLL_INTERVAL', '1s'),
    retentionMs: d('LABELCAST_RETENTION', '30d'),
    emailWindowMs: d('LABELCAST_EMAIL_WINDOW', '5m'),
    scheduleTickMs: d('LABELCAST_SCHEDULE_TICK', '5s'),
    encordSource: env.LABELCAST_ENCORD_SOURCE || 'Encord',
    proxyUrl: proxy(env.LABELCAST_HTTP_PROXY),
    actions: {
      // 4: four warm Pyodide processes are ~0.7 GiB (docs/custom-actions-sandbox.md, measurements).
      processes: int('LABELCAST_ACTION_PROCESSES', 4, 1, 256),
      memoryMiB: int('LABELCAST_ACTION_MEMORY_MIB', 128, 16, 1024),
      // Same as an action's default limits (src/domain/pipelines.ts ACTION_LIMIT_DEFAULTS).
      cpuMs: d('LABELCAST_ACTION_CPU_MS', '60s'),
      wallMs: d('LABELCAST_ACTION_WALL_MS', '5m'),
      logBytes: int('LABELCAST_ACTION_LOG_BYTES', 64 * 1024, 1024, 64 * 1024),
    },
  };
}
