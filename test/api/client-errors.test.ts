// Issue 10 defects 3 and 8, on a real socket: errors Node's HTTP parser raises before Fastify
// sees a request come back in our shape, and a client sending headers slowly is cut off.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Api } from '../../src/api/http.js';
import { openTestStore, testKeyring } from '../helpers/stores.js';
import type { Store } from '../../src/store/connect.js';
import { loadDeliverySettings } from '../../src/model/delivery-settings.js';
import { loadMessagingSettings } from '../../src/model/messaging-settings.js';

/** Sends raw bytes, collects everything until the server closes (or 10 s pass). */
function rawExchange(port: number, write: (s: net.Socket) => void): Promise<{ text: string; closedAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = net.connect(port, '127.0.0.1', () => write(s));
    let text = '';
    s.on('data', (d) => (text += d.toString()));
    s.on('error', () => {});
    s.on('close', () => resolve({ text, closedAfterMs: Date.now() - started }));
    setTimeout(() => {
      s.destroy();
      reject(new Error(`server still holds the socket after 10 s; got ${JSON.stringify(text)}`));
    }, 10_000).unref();
  });
}

const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));

describe('client errors on a real socket', () => {
  let app: Api;
  let store: Store;
  let port: number;

  beforeAll(async () => {
    store = (await openTestStore('sqlite')).store;
    const svc = { store, targets: { allowPrivate: true, allowlist: [] }, delivery: loadDeliverySettings({}), messaging: loadMessagingSettings({}), ring: testKeyring(), wake: () => {} };
    app = await buildApp({ svc: svc as never, logger: false, timeouts: { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, checkIntervalMs: 200 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('cuts off a client that sends its headers slowly, with request_timeout', async () => {
    let timer: NodeJS.Timeout | undefined;
    const r = await rawExchange(port, (s) => {
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
      // One header byte every 300 ms: each write resets an idle timer, only a headers timeout stops it.
      timer = setInterval(() => s.writable && s.write('X'), 300);
    });
    clearInterval(timer);
    expect(r.closedAfterMs).toBeLessThan(5_000);
    expect(r.text).toMatch(/^HTTP\/1.1 408/);
    expect(bodyOf(r.text)).toMatchObject({ code: 'request_timeout', status: 408 });
  });

  it('answers headers over the limit with headers_too_large', async () => {
    const r = await rawExchange(port, (s) => s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`));
    expect(r.text).toMatch(/^HTTP\/1.1 431/);
    expect(bodyOf(r.text)).toMatchObject({ code: 'headers_too_large', status: 431 });
  });

  it('answers an invalid Content-Length with bad_request', async () => {
    const r = await rawExchange(port, (s) => s.write('POST /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}'));
    expect(r.text).toMatch(/^HTTP\/1.1 400/);
    expect(bodyOf(r.text)).toMatchObject({ code: 'bad_request', status: 400, message: expect.stringMatching(/Content-Length/) });
  });

  it('answers a URL over the limit in our shape', async () => {
    const r = await rawExchange(port, (s) => s.write(`GET /v1/projects?q=${'a'.repeat(40_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(r.text).toMatch(/^HTTP\/1.1 431/);
    expect(bodyOf(r.text)).toMatchObject({ code: 'headers_too_large', status: 431 });
  });
});
