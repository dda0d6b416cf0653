// SSRF: private, loopback, link-local, multicast and reserved targets are refused unless
// the operator allows them; checked on the resolved address at connect time.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist, refusal, SPECIAL_V4, SPECIAL_V6, type SpecialRange } from '../../src/model/addresses.js';
import { KINDS } from '../helpers/stores.js';
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

// Address arithmetic done independently of net.BlockList, so the table is checked, not echoed.
function toBig(ip: string): bigint {
  if (net.isIPv4(ip)) return ip.split('.').reduce((n, o) => (n << 8n) | BigInt(o), 0n);
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const parts = (s: string | undefined) => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}
function fromBig(n: bigint, family: 'ipv4' | 'ipv6'): string {
  if (family === 'ipv4') return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 255n)).join('.');
  return Array.from({ length: 8 }, (_, i) => ((n >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
}
const width = (f: 'ipv4' | 'ipv6') => (f === 'ipv4' ? 32n : 128n);
function bounds(r: SpecialRange): [bigint, bigint] {
  const first = toBig(r.address);
  return [first, first + (1n << (width(r.family) - BigInt(r.prefix))) - 1n];
}
const ALL = [...SPECIAL_V4, ...SPECIAL_V6];
const inAny = (n: bigint, f: 'ipv4' | 'ipv6') => ALL.some((r) => r.family === f && n >= bounds(r)[0] && n <= bounds(r)[1]);

describe('IANA special-purpose registries, every entry', () => {
  it('has the issue-10 minimum and an RFC on every row', () => {
    const keys = ALL.map((r) => `${r.address}/${r.prefix}`);
    for (const k of ['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
      '192.88.99.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4', '255.255.255.255/32',
      '::/128', '::1/128', '::ffff:0:0/96', '::/96', '64:ff9b::/96', '64:ff9b:1::/48', '100::/64', '2001::/23', '2001:db8::/32', '2002::/16',
      'fc00::/7', 'fe80::/10', 'ff00::/8']) expect(keys).toContain(k);
    for (const r of ALL) expect(r.rfc).toMatch(/^RFC \d+$/);
  });

  it.each(ALL.map((r) => [`${r.address}/${r.prefix} (${r.rfc})`, r] as const))('refuses the first and last address of %s and allows a public neighbour', (_label, r) => {
    const [first, last] = bounds(r);
    expect(refusal(fromBig(first, r.family), closed), fromBig(first, r.family)).toBeDefined();
    expect(refusal(fromBig(last, r.family), closed), fromBig(last, r.family)).toBeDefined();
    const max = (1n << width(r.family)) - 1n;
    const neighbours = [first - 1n, last + 1n].filter((n) => n >= 0n && n <= max && !inAny(n, r.family));
    for (const n of neighbours) {
      const ip = fromBig(n, r.family);
      expect(refusal(ip, closed), ip).toBeUndefined();
    }
    // Only these rows are walled in by other rows or the end of the address space.
    const enclosed = ['240.0.0.0/4', '255.255.255.255/32', '::/128', '::1/128', 'fec0::/10', 'ff00::/8'];
    if (!enclosed.includes(`${r.address}/${r.prefix}`)) expect(neighbours.length).toBeGreaterThan(0);
  });

  it.each(['::127.0.0.1', '::7f00:1', '::10.0.0.1', '::8.8.8.8', '::ffff:0:7f00:1', '64:ff9b::7f00:1', '2001:0:4136:e378::1', '2002:7f00:1::'])('refuses the embedded-IPv4 form %s', (ip) => {
    expect(refusal(ip, closed)).toBeDefined();
  });

  it('refuses [::127.0.0.1] as URL host (Node normalises it to [::7f00:1])', () => {
    const host = new URL('http://[::127.0.0.1]:8080/').hostname.replace(/^\[|\]$/g, '');
    expect(refusal(host, closed)).toBeDefined();
  });
});

describe.each(KINDS)('SSRF at save and at connect time on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  beforeAll(async () => {
    api = await setupApi(kind, { worker: true, targets: closed });
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
    const compat = await api.call('POST', '/v1/notifications', { body: { title: 'x', triggers: ['all'], channels: [{ type: 'webhook', url: 'http://[::127.0.0.1]:80/' }] } });
    expect(compat.body.code).toBe('target_not_allowed');
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
