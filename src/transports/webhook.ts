// Sends one webhook request and says what happened, in the terms the attempt log and the
// retry policy need: status, a bounded response body, latency, and an error kind.
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
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
    // One controller and one timer per request: AbortSignal.timeout plus AbortSignal.any cost
    // about 4% of the delivery-only CPU profile (docs/performance.md).
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, opts.timeoutMs);
    const onOuter = () => ac.abort(outer?.reason);
    if (outer?.aborted) onOuter();
    else outer?.addEventListener('abort', onOuter, { once: true });
    const signal = ac.signal;
    try {
      const res = await request(parsed, {
        method: 'POST',
        headers: { 'user-agent': opts.userAgent, ...headers },
        body,
        dispatcher: agent,
        signal,
      });
      const responseBody = await readBounded(res.body, opts.responseBodyLimit);
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      const retryAfterMs = res.statusCode === 429 || res.statusCode === 503 ? parseRetryAfter(res.headers['retry-after']) : null;
      return done({ ok, status: res.statusCode, responseBody, errorKind: ok ? null : 'status', errorMessage: ok ? null : `receiver answered ${res.statusCode}`, retryAfterMs });
    } catch (err) {
      const kind = classify(err, timedOut);
      return done({ ok: false, status: null, responseBody: null, errorKind: kind, errorMessage: describe(err, kind, opts.timeoutMs), retryAfterMs: null });
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    }
  }

  return { send, close: () => agent.close() };
}

async function readBounded(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size < limit) chunks.push(buf.subarray(0, limit - size));
    size += buf.length;
    // The rest is drained, not kept: the connection stays reusable.
  }
  return Buffer.concat(chunks).toString('utf8');
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
