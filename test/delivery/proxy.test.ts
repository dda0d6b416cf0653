// Egress identity: with LABELCAST_HTTP_PROXY every webhook leaves through the proxy, so an
// operator can give receivers one address to allow-list.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';

async function startProxy() {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    // Plain forward proxying (absolute-form request target).
    seen.push(`GET-FORM ${req.url}`);
    const target = new URL(req.url!);
    const up = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  server.on('connect', (req, socket, head) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = req.url!.split(':');
    const up = net.connect(Number(port), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', () => socket.destroy());
    socket.on('error', () => up.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

describe.each(KINDS)('outbound proxy on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  beforeAll(async () => {
    proxy = await startProxy();
    rx = await startReceiver();
    api = await setupApi(kind, { worker: true, delivery: { proxyUrl: proxy.url } });
  });
  afterAll(async () => {
    await api?.close();
    await rx?.close();
    await proxy?.close();
  });

  it('sends every webhook through LABELCAST_HTTP_PROXY', async () => {
    await api.call('POST', '/v1/notifications', { body: { title: 'via proxy', triggers: ['project.created'], channels: [{ type: 'webhook', url: `${rx.url}/through` }] } });
    await api.call('POST', '/v1/projects', { body: { title: 'p' } });
    await waitFor(() => rx.received[0], 'the webhook');
    const host = new URL(rx.url).host;
    expect(proxy.seen.some((s) => s.includes(host))).toBe(true);
  });
});
