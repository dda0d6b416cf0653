// Which network addresses a webhook may reach (SSRF protection, DESIGN.md "Delivery
// guarantees"). Checked on the resolved address at connect time, so a hostname that
// resolves to 127.0.0.1, or is re-pointed there after the channel was saved, is refused too.
import dns from 'node:dns';
import net from 'node:net';

export interface TargetPolicy {
  /** LABELCAST_ALLOW_PRIVATE_TARGETS=true: no address is refused. */
  allowPrivate: boolean;
  /** LABELCAST_ALLOWED_TARGETS: addresses or CIDRs allowed even though private. */
  allowlist: net.BlockList | null;
}

export const HOW_TO_ALLOW =
  'set LABELCAST_ALLOW_PRIVATE_TARGETS=true (or list it in LABELCAST_ALLOWED_TARGETS, e.g. 10.0.0.0/8,127.0.0.1) to allow private targets';

// Loopback, private, link-local, multicast, reserved and other special-purpose ranges
// (IANA IPv4/IPv6 special-purpose registries).
const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const BLOCKED_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];

const blocked = new net.BlockList();
for (const [a, p] of BLOCKED_V4) blocked.addSubnet(a, p, 'ipv4');
for (const [a, p] of BLOCKED_V6) blocked.addSubnet(a, p, 'ipv6');

export function parseAllowlist(text: string | undefined): net.BlockList | null {
  if (!text || !text.trim()) return null;
  const list = new net.BlockList();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const [addr, bits] = item.split('/');
    const family = net.isIPv4(addr!) ? 'ipv4' : net.isIPv6(addr!) ? 'ipv6' : undefined;
    if (!family) throw new Error(`LABELCAST_ALLOWED_TARGETS: '${item}' is not an IP address or CIDR`);
    if (bits === undefined) list.addAddress(addr!, family);
    else {
      const n = Number(bits);
      if (!Number.isInteger(n) || n < 0 || n > (family === 'ipv4' ? 32 : 128)) throw new Error(`LABELCAST_ALLOWED_TARGETS: bad prefix in '${item}'`);
      list.addSubnet(addr!, n, family);
    }
  }
  return list;
}

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1, or its hex form ::ffff:a00:1) as IPv4. */
function unmapV4(ip: string): string | undefined {
  const m = /^::ffff:(?:0:)?(.+)$/i.exec(ip);
  if (!m) return undefined;
  const rest = m[1]!;
  if (net.isIPv4(rest)) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(rest);
  if (!hex) return undefined;
  const hi = parseInt(hex[1]!, 16);
  const lo = parseInt(hex[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Why this address may not be reached, or undefined when it may. */
export function refusal(ip: string, policy: TargetPolicy): string | undefined {
  if (policy.allowPrivate) return undefined;
  const v4 = net.isIPv4(ip) ? ip : unmapV4(ip);
  const family = v4 ? 'ipv4' : 'ipv6';
  const addr = v4 ?? ip;
  if (policy.allowlist?.check(addr, family)) return undefined;
  if (blocked.check(addr, family)) return `${ip} is a private, loopback, link-local, multicast or reserved address; ${HOW_TO_ALLOW}`;
  return undefined;
}

export class TargetRefused extends Error {
  readonly code = 'ESSRF';
  constructor(message: string) {
    super(message);
    this.name = 'TargetRefused';
  }
}

/** A dns.lookup replacement for the HTTP agent: resolves, then refuses blocked addresses. */
export function guardedLookup(policy: TargetPolicy): typeof dns.lookup {
  const lookup = (hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const why = refusal(a.address, policy);
        if (why) return callback(new TargetRefused(`${hostname} resolves to ${why}`), '', 0);
      }
      if (options.all) return callback(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
  return lookup as unknown as typeof dns.lookup;
}

/** The same check for a URL whose host is an IP literal (no lookup happens for those). */
export function literalRefusal(url: URL, policy: TargetPolicy): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return net.isIP(host) ? refusal(host, policy) : undefined;
}
