// Sends one webhook request and says what happened, in the terms the attempt log and the
// retry policy need: status, a bounded response body, latency, and an error kind.
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { guardedLookup, refusalByDns } from './targets.js';
import { literalRefusal, type TargetPolicy } from '../model/addresses.js';
import type { ErrorKind, SendResult } from '../model/send-result.js';


export interface WebhookSender {
  send(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<SendResult>;
  close(): Promise<void>;
}

export interface SenderOptions {
  policy: TargetPolicy;
  timeoutMs: number;
  responseBodyLimit: number;
  userAgent: string;
  /** All traffic leaves through this HTTP proxy (LABELCAST_HTTP_PROXY). */
  proxyUrl?: string | undefined;
}

export function createWebhookSender(opts: SenderOptions): WebhookSender {
  const timeouts = { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs, keepAliveTimeout: 30_000 };
  // Behind a proxy the proxy resolves names, so the address check runs before each request
  // (refusalByDns in targets.ts); without one it runs inside the connection's own DNS lookup.
  const agent: Dispatcher = opts.proxyUrl
    ? new ProxyAgent({ uri: opts.proxyUrl, ...timeouts, connections: 256 })
    : new Agent({
        connect: { lookup: guardedLookup(opts.policy) as never, timeout: Math.min(opts.timeoutMs, 10_000) },
        ...timeouts,
        // Per-origin connections are capped by the per-channel in-flight limit upstream.
        connections: 256,
      });

  // Requests in flight under each outer signal (the dispatcher's one shutdown signal): one
  // listener per signal aborts them all, rather than a listener added and removed per request.
  const watched = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();
  const watch = (outer: AbortSignal, abort: (reason: unknown) => void): (() => void) => {
    let live = watched.get(outer);
    if (!live) {
      const set = new Set<(reason: unknown) => void>();
      live = set;
      watched.set(outer, set);
      outer.addEventListener('abort', () => {
        for (const a of set) a(outer.reason);
      }, { once: true });
    }
    live.add(abort);
    return () => {
      live.delete(abort);
    };
  };

  async function send(url: string, headers: Record<string, string>, body: string, outer?: AbortSignal): Promise<SendResult> {
    const started = performance.now();
    const done = (r: Omit<SendResult, 'latencyMs'>): SendResult => ({ ...r, latencyMs: Math.round((performance.now() - started) * 100) / 100 });
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return done({ ok: false, status: null, responseBody: null, errorKind: 'other', errorMessage: `invalid URL ${url}`, retryAfterMs: null });
    }
    const refused = literalRefusal(parsed, opts.policy) ?? (opts.proxyUrl ? await refusalByDns(parsed, opts.policy) : undefined);
    if (refused) return done({ ok: false, status: null, responseBody: null, errorKind: 'ssrf_blocked', errorMessage: refused, retryAfterMs: null });
    let timedOut = false;
    const outcome = await exchange(agent, parsed, { 'user-agent': opts.userAgent, ...headers }, body, opts.responseBodyLimit, (abort) => {
      // One timer per request, for the whole exchange (headers and body).
      const timer = setTimeout(() => {
        timedOut = true;
        abort(new Error('timeout'));
      }, opts.timeoutMs);
      let unwatch: (() => void) | null = null;
      if (outer?.aborted) abort(outer.reason);
      else if (outer) unwatch = watch(outer, abort);
      return () => {
        clearTimeout(timer);
        unwatch?.();
      };
    });
    if ('error' in outcome) {
      const kind = classify(outcome.error, timedOut);
      return done({ ok: false, status: null, responseBody: null, errorKind: kind, errorMessage: describe(outcome.error, kind, opts.timeoutMs), retryAfterMs: null });
    }
    const { status, responseBody, retryAfter } = outcome;
    const ok = status >= 200 && status < 300;
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(retryAfter) : null;
    return done({ ok, status, responseBody, errorKind: ok ? null : 'status', errorMessage: ok ? null : `receiver answered ${status}`, retryAfterMs });
  }

  return { send, close: () => agent.close() };
}

type Exchanged = { status: number; responseBody: string; retryAfter: string | string[] | undefined } | { error: unknown };

/**
 * One POST through undici's dispatcher with a handler of our own: the status, the
 * Retry-After header and the first `limit` bytes of the body are all that is kept. undici's
 * `request()` wraps each response in a stream and each request in an AbortSignal; with
 * 64 requests in flight that cost ~190 us of CPU per request here against ~105 us for this
 * handler (same receiver, 20,000 requests, docs/performance.md round 4).
 *
 * `arm` is given the request's abort function and returns a disarm function: an abort that
 * comes before undici has started the request is applied the moment it starts, as
 * `request()` does with its signal.
 */
function exchange(
  agent: Dispatcher,
  url: URL,
  headers: Record<string, string>,
  body: string,
  limit: number,
  arm: (abort: (reason: unknown) => void) => () => void,
): Promise<Exchanged> {
  return new Promise<Exchanged>((resolve) => {
    let controller: Dispatcher.DispatchController | null = null;
    let early: unknown = undefined;
    let aborted = false;
    const disarm = arm((reason) => {
      if (aborted) return;
      aborted = true;
      if (controller) controller.abort(reason as Error);
      else early = reason;
    });
    let status = 0;
    let retryAfter: string | string[] | undefined;
    let chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (v: Exchanged) => {
      if (settled) return;
      settled = true;
      disarm();
      resolve(v);
    };
    try {
      agent.dispatch(
        { origin: url.origin, path: url.pathname + url.search, method: 'POST', headers, body },
        {
          onRequestStart(c) {
            controller = c;
            if (aborted) c.abort(early as Error);
          },
          onResponseStart(_c, statusCode, h) {
            // An informational (1xx) answer is followed by the real one.
            status = statusCode;
            retryAfter = h['retry-after'];
            chunks = [];
            size = 0;
          },
          onResponseData(_c, chunk) {
            // Only the first `limit` bytes are kept; the rest is read and dropped, so the
            // connection stays reusable.
            if (size < limit) chunks.push(chunk.subarray(0, limit - size));
            size += chunk.length;
          },
          onResponseEnd() {
            settle({ status, responseBody: Buffer.concat(chunks).toString('utf8'), retryAfter });
          },
          onResponseError(_c, error) {
            settle({ error });
          },
        },
      );
    } catch (error) {
      settle({ error });
    }
  });
}

export function parseRetryAfter(value: string | string[] | undefined): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function errCode(err: unknown): string {
  let e = err as { code?: string; cause?: unknown; name?: string } | undefined;
  for (let i = 0; e && i < 4; i++) {
    if (e.code) return e.code;
    if (e.name === 'TargetRefused') return 'ESSRF';
    e = e.cause as typeof e;
  }
  return (err as { name?: string })?.name ?? '';
}

function classify(err: unknown, timedOut: boolean): ErrorKind {
  const code = errCode(err);
  if (timedOut || /TIMEOUT|ETIMEDOUT|AbortError|TimeoutError/.test(code)) return 'timeout';
  if (code === 'ESSRF') return 'ssrf_blocked';
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE' || code === 'UND_ERR_CLOSED') return 'connection_reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'dns';
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|EPROTO|ERR_OSSL)/.test(code)) return 'tls';
  return 'other';
}

function describe(err: unknown, kind: ErrorKind, timeoutMs: number): string {
  if (kind === 'timeout') return `no complete response within ${timeoutMs} ms`;
  let e = err as { message?: string; cause?: unknown } | undefined;
  const parts: string[] = [];
  for (let i = 0; e && i < 3; i++) {
    if (e.message) parts.push(e.message);
    e = e.cause as typeof e;
  }
  return parts.join(': ').slice(0, 500) || String(err);
}
