// A real HTTP receiver on 127.0.0.1 for webhook tests. Its behaviour per request is a
// function, so a test can answer 500, hang, reset the connection or answer 429.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  at: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
}

export type Behaviour = (req: Received, n: number, res: http.ServerResponse) => unknown;

export const ok: Behaviour = (_r, _n, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
};

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests being handled right now, and the most at once. */
  concurrent: number;
  maxConcurrent: number;
  behave(b: Behaviour): void;
  close(): Promise<void>;
}

export async function startReceiver(behaviour: Behaviour = ok): Promise<Receiver> {
  let current = behaviour;
  const sockets = new Set<import('node:net').Socket>();
  const r: Receiver = {
    url: '',
    received: [],
    concurrent: 0,
    maxConcurrent: 0,
    behave(b) {
      current = b;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* not JSON */
      }
      const rec: Received = { at: Date.now(), path: req.url ?? '/', headers: req.headers, body, json };
      r.received.push(rec);
      r.concurrent++;
      r.maxConcurrent = Math.max(r.maxConcurrent, r.concurrent);
      res.on('close', () => r.concurrent--);
      try {
        await current(rec, r.received.length, res);
      } catch {
        res.destroy();
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return r;
}

export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}
