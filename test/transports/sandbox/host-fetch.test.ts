// A handler's fetch, as the host performs it: the webhook SSRF guard at connect time (a name
// that resolves to loopback too), before the request for IP literals and behind a proxy, and
// only http(s) with ordinary methods.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../../src/model/addresses.js';
import { createHostFetch } from '../../../src/transports/sandbox/host-fetch.js';
import { startReceiver, type Receiver } from '../../helpers/receiver.js';

const closed = { allowPrivate: false, allowlist: null };
const base = { fetchTimeoutMs: 5000, fetchBodyLimit: 16 };

let rx: Receiver;
let proxySeen = 0;
let proxy: http.Server;
let proxyUrl = '';

beforeAll(async () => {
  rx = await startReceiver((_r, _n, res) => res.writeHead(200, { 'x-answer': 'yes' }).end('0123456789abcdefghijklmnop'));
  proxy = http.createServer((_req, res) => {
    proxySeen++;
    res.writeHead(502).end();
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await rx?.close();
  await new Promise((r) => proxy.close(r));
});

describe('host fetch', () => {
  it('refuses a name that resolves to loopback at connect time, and a literal before connecting', async () => {
    const f = createHostFetch({ targets: closed, ...base });
    try {
      const port = new URL(rx.url).port;
      expect(await f.fetch({ url: `http://localhost:${port}/`, method: 'GET', headers: {}, body: null }, 5000)).toEqual({ error: expect.stringMatching(/localhost resolves to .*private, loopback/) });
      expect(await f.fetch({ url: `http://[::ffff:127.0.0.1]:${port}/`, method: 'GET', headers: {}, body: null }, 5000)).toEqual({ error: expect.stringMatching(/refused: .*LABELCAST_ALLOW_PRIVATE_TARGETS/) });
      expect(rx.received).toHaveLength(0);
    } finally {
      await f.close();
    }
  });

  it('behind a proxy, refuses a private name before asking the proxy', async () => {
    const f = createHostFetch({ targets: closed, proxyUrl, ...base });
    try {
      const r = await f.fetch({ url: `http://localhost:${new URL(rx.url).port}/`, method: 'GET', headers: {}, body: null }, 5000);
      expect(r).toEqual({ error: expect.stringMatching(/localhost resolves to/) });
      expect(proxySeen).toBe(0);
    } finally {
      await f.close();
    }
  });

  it('refuses other schemes and methods, and cuts the response body at its limit', async () => {
    const f = createHostFetch({ targets: { allowPrivate: false, allowlist: parseAllowlist('127.0.0.1') }, ...base });
    try {
      expect(await f.fetch({ url: 'file:///etc/passwd', method: 'GET', headers: {}, body: null }, 5000)).toEqual({ error: expect.stringMatching(/only http and https/) });
      expect(await f.fetch({ url: rx.url, method: 'CONNECT', headers: {}, body: null }, 5000)).toEqual({ error: expect.stringMatching(/method CONNECT is not allowed/) });
      const ok = await f.fetch({ url: `${rx.url}/x`, method: 'post', headers: { 'X-Key': 'v', Host: 'evil.example' }, body: '{}' }, 5000);
      expect(ok).toMatchObject({ status: 200, body: '0123456789abcdef', headers: { 'x-answer': 'yes' } });
      expect(rx.received.at(-1)!.headers['x-key']).toBe('v');
      expect(rx.received.at(-1)!.headers.host).toBe(new URL(rx.url).host);
    } finally {
      await f.close();
    }
  });
});
