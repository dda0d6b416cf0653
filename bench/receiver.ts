// The bench's webhook receiver: answers 200 at once (or after delayMs; or never, for paths
// starting with /hang). It runs in a process of its own (receiver-proc.ts), so the cores the
// measured process uses are not also parsing its requests on the same event loop.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Receiver {
  url: string;
  count: number;
  /** ms from the body's "timestamp" (the event's time) to arrival, when asked to record. */
  latencies: number[];
  recordLatency: boolean;
  close(): Promise<void>;
}

export async function startReceiver(delayMs = 0): Promise<Receiver> {
  const r: Receiver = { url: '', count: 0, latencies: [], recordLatency: false, close: async () => undefined };
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/hang')) {
      req.resume();
      return; // never answers: the sender's timeout ends it
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (r.recordLatency) {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { timestamp?: string };
        if (body.timestamp) r.latencies.push(Date.now() - Date.parse(body.timestamp));
      }
      const answer = () => {
        r.count++;
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  return r;
}
