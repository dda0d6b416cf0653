// A handler's only way out: the host performs its HTTP request (issue 13: "a host-provided
// fetch ... that goes through the same SSRF guard, proxy and timeouts as webhooks"). The
// address guard is the webhook one from transports/targets.ts: resolved addresses are checked at
// connect time, IP literals before the request, and behind a proxy before each request.
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import { guardedLookup, refusalByDns } from '../targets.js';
import { literalRefusal } from '../../model/addresses.js';
import type { HostFetchRequest, HostFetchResponse, SandboxSettings } from './types.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
// Hop-by-hop and framing headers are ours to set, not the handler's.
const DROPPED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-connection']);

export interface HostFetch {
  fetch(req: HostFetchRequest, timeoutMs: number): Promise<HostFetchResponse>;
  close(): Promise<void>;
}

export function createHostFetch(s: Pick<SandboxSettings, 'targets' | 'proxyUrl' | 'fetchTimeoutMs' | 'fetchBodyLimit'>): HostFetch {
  const timeouts = { headersTimeout: s.fetchTimeoutMs, bodyTimeout: s.fetchTimeoutMs };
  const agent: Dispatcher = s.proxyUrl
    ? new ProxyAgent({ uri: s.proxyUrl, ...timeouts })
    : new Agent({ connect: { lookup: guardedLookup(s.targets) as never, timeout: Math.min(s.fetchTimeoutMs, 10_000) }, ...timeouts });

  async function fetch(req: HostFetchRequest, timeoutMs: number): Promise<HostFetchResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return { error: `fetch: invalid URL ${JSON.stringify(String(req.url).slice(0, 200))}` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `fetch: only http and https URLs are allowed, not ${url.protocol}` };
    const method = String(req.method || 'GET').toUpperCase();
    if (!METHODS.has(method)) return { error: `fetch: method ${method} is not allowed` };
    const refused = literalRefusal(url, s.targets) ?? (s.proxyUrl ? await refusalByDns(url, s.targets) : undefined);
    if (refused) return { error: `fetch to ${url.host} refused: ${refused}` };
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) if (!DROPPED_HEADERS.has(k.toLowerCase())) headers[k] = String(v);
    try {
      const res = await request(url, {
        method: method as Dispatcher.HttpMethod,
        headers,
        body: req.body ?? null,
        dispatcher: agent,
        signal: AbortSignal.timeout(Math.max(1, Math.min(timeoutMs, s.fetchTimeoutMs))),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        if (size < s.fetchBodyLimit) chunks.push(buf.subarray(0, s.fetchBodyLimit - size));
        size += buf.length;
      }
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
      return { status: res.statusCode, headers: out, body: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      return { error: `fetch to ${url.host} failed: ${describe(err)}` };
    }
  }

  let closing: Promise<void> | null = null;
  return { fetch, close: () => (closing ??= agent.close()) };
}

function describe(err: unknown): string {
  let e = err as { message?: string; name?: string; cause?: unknown } | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no complete response in time';
  const parts: string[] = [];
  for (let i = 0; e && i < 3; i++) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
    e = e.cause as typeof e;
  }
  return parts.join(': ').slice(0, 500) || String(err);
}
