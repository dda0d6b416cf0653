// A local fake of the Slack Web API and of incoming webhooks. It checks what real Slack
// checks (the bearer token, the channel, a text fallback, Block Kit limits) and records
// every call, so tests see exactly what Labelcast sent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  at: number;
  method: string;
  auth: string | undefined;
  body: any;
}

export interface FakeSlack {
  url: string;
  apiUrl: string;
  calls: SlackCall[];
  posts(): SlackCall[];
  channels: { id: string; name: string; is_private: boolean }[];
  /** Answer the next chat.postMessage calls with 429 and this Retry-After (seconds). */
  rateLimitNext(n: number, retryAfter: number): void;
  /**
   * As real Slack does per conversation: the next post to this channel gets 429 with this
   * Retry-After (seconds), and so does every post to it until that time has passed. For an
   * incoming webhook, give its path (/services/…).
   */
  rateLimitChannel(channel: string, retryAfter: number): void;
  close(): Promise<void>;
}

export const CLIENT_ID = 'client-123';
export const CLIENT_SECRET = 'secret-456';
export const BOT_TOKEN = 'xoxb-fake-token';

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  let limited = 0;
  let retryAfter = 1;
  // Per channel: seconds to answer the next post with, then the end of its window.
  const windows = new Map<string, { seconds: number; until: number | null }>();
  const f: FakeSlack = {
    url: '',
    apiUrl: '',
    calls,
    posts: () => calls.filter((c) => c.method === 'chat.postMessage' || c.method === 'incoming-webhook'),
    channels: [
      { id: 'C0REVIEW', name: 'reviewers', is_private: false },
      { id: 'G0MGMT', name: 'managers', is_private: true },
    ],
    rateLimitNext(n, seconds) {
      limited = n;
      retryAfter = seconds;
    },
    rateLimitChannel(channel, seconds) {
      windows.set(channel, { seconds, until: null });
    },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      const path = req.url ?? '';
      const type = String(req.headers['content-type'] ?? '');
      const body = type.includes('json') ? JSON.parse(raw || '{}') : Object.fromEntries(new URLSearchParams(raw));
      const auth = req.headers.authorization;
      const json = (status: number, obj: unknown, headers: Record<string, string> = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(obj));
      const blocksOk = (b: any) => Array.isArray(b.blocks) && b.blocks.length <= 50 && b.blocks.every((x: any) => x.type !== 'section' || x.text.text.length <= 3000) && typeof b.text === 'string' && b.text.length > 0;
      if (path.startsWith('/services/')) {
        calls.push({ at: Date.now(), method: 'incoming-webhook', auth, body: { ...body, path } });
        // An incoming webhook is rate-limited per URL: rateLimitChannel takes its path.
        const w = windows.get(path);
        if (w && (w.until === null || Date.now() < w.until)) {
          w.until ??= Date.now() + w.seconds * 1000;
          return res.writeHead(429, { 'retry-after': String(Math.max(1, Math.ceil((w.until - Date.now()) / 1000))) }).end('rate_limited');
        }
        return blocksOk(body) ? res.writeHead(200).end('ok') : res.writeHead(400).end('invalid_blocks');
      }
      const method = path.replace(/^\/api\//, '');
      calls.push({ at: Date.now(), method, auth, body });
      switch (method) {
        case 'oauth.v2.access':
          if (body.client_id !== CLIENT_ID || body.client_secret !== CLIENT_SECRET) return json(200, { ok: false, error: 'invalid_client' });
          if (body.code !== 'good-code') return json(200, { ok: false, error: 'invalid_code' });
          return json(200, { ok: true, access_token: BOT_TOKEN, token_type: 'bot', scope: 'chat:write,channels:read,groups:read', bot_user_id: 'U0BOT', team: { id: 'T0TEAM', name: 'Vision Lab' } });
        case 'conversations.list':
          if (auth !== `Bearer ${BOT_TOKEN}`) return json(200, { ok: false, error: 'not_authed' });
          return json(200, { ok: true, channels: f.channels, response_metadata: { next_cursor: '' } });
        case 'chat.postMessage':
          if (auth !== `Bearer ${BOT_TOKEN}`) return json(200, { ok: false, error: 'not_authed' });
          if (limited > 0) {
            limited--;
            return json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
          }
          {
            const w = windows.get(body.channel);
            if (w && (w.until === null || Date.now() < w.until)) {
              w.until ??= Date.now() + w.seconds * 1000;
              return json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(Math.max(1, Math.ceil((w.until - Date.now()) / 1000))) });
            }
          }
          if (!f.channels.some((c) => c.id === body.channel)) return json(200, { ok: false, error: 'channel_not_found' });
          if (!blocksOk(body)) return json(200, { ok: false, error: 'invalid_blocks' });
          return json(200, { ok: true, channel: body.channel, ts: String(Date.now() / 1000) });
        default:
          return json(404, { ok: false, error: 'unknown_method' });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  f.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  f.apiUrl = `${f.url}/api`;
  return f;
}
