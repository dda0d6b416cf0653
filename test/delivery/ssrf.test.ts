// SSRF: private, loopback, link-local, multicast and reserved targets are refused unless
// the operator allows them; checked on the resolved address at connect time.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist, refusal } from '../../src/channels/targets.js';
import { DIALECTS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';

const closed = { allowPrivate: false, allowlist: null };

describe('address policy', () => {
  it.each([
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.2.1',
    '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '2001:db8::1',
    '::ffff:127.0.0.1', '::ffff:10.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe',
  ])('refuses %s', (ip) => {
    expect(refusal(ip, closed)).toMatch(/LABELCAST_ALLOW_PRIVATE_TARGETS=true/);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows public %s', (ip) => {
    expect(refusal(ip, closed)).toBeUndefined();
  });

  it('lets an allowlist or the switch through', () => {
    const allowlist = parseAllowlist('127.0.0.1, 10.0.0.0/8');
    expect(refusal('127.0.0.1', { allowPrivate: false, allowlist })).toBeUndefined();
    expect(refusal('10.9.8.7', { allowPrivate: false, allowlist })).toBeUndefined();
    expect(refusal('::ffff:10.9.8.7', { allowPrivate: false, allowlist })).toBeUndefined();
    expect(refusal('192.168.0.1', { allowPrivate: false, allowlist })).toBeDefined();
    expect(refusal('192.168.0.1', { allowPrivate: true, allowlist: null })).toBeUndefined();
    expect(() => parseAllowlist('nonsense')).toThrow(/not an IP address/);
    expect(net.isIP('::ffff:7f00:1')).toBe(6);
  });
});

describe.each(DIALECTS)('SSRF at save and at connect time on %s', (dialect) => {
  let api: TestApi;
  let rx: Receiver;
  beforeAll(async () => {
    api = await setupApi(dialect, { worker: true, targets: closed });
    rx = await startReceiver();
  });
  afterAll(async () => {
    await rx?.close();
    await api?.close();
  });

  it('refuses an IP-literal private URL when saved, saying how to allow it', async () => {
    const res = await api.call('POST', '/v1/notifications', { body: { title: 'x', triggers: ['all'], channels: [{ type: 'webhook', url: rx.url }] } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('target_not_allowed');
    expect(res.body.message).toMatch(/LABELCAST_ALLOW_PRIVATE_TARGETS=true/);
    const v6 = await api.call('POST', '/v1/notifications', { body: { title: 'x', triggers: ['all'], channels: [{ type: 'webhook', url: 'http://[::ffff:127.0.0.1]:80/' }] } });
    expect(v6.body.code).toBe('target_not_allowed');
  });

  it('refuses a hostname that resolves to loopback when connecting', async () => {
    const url = rx.url.replace('127.0.0.1', 'localhost');
    const n = (await api.call('POST', '/v1/notifications', { body: { title: 'x', triggers: ['project.created'], channels: [{ type: 'webhook', url }] } })).body;
    await api.call('POST', '/v1/projects', { body: { title: 'p' } });
    const d = await waitFor(async () => {
      const [x] = (await api.call('GET', `/v1/deliveries?channel_id=${n.channels[0].id}`)).body.data;
      return x && x.attempt_count > 0 ? x : null;
    }, 'an attempt');
    const attempt = (await api.call('GET', `/v1/deliveries/${d.id}`)).body.attempts[0];
    expect(attempt.error_kind).toBe('ssrf_blocked');
    expect(attempt.error_message).toMatch(/localhost resolves to .*LABELCAST_ALLOW_PRIVATE_TARGETS/);
    expect(rx.received).toHaveLength(0);
  });
});
