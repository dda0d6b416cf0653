// Which network addresses a webhook or a custom action's fetch may reach (SSRF protection,
// DESIGN.md "Delivery guarantees"): the IANA special-purpose tables and the policy check,
// pure. transports/targets.ts applies them to resolved addresses at connect time.
import net from 'node:net';

export interface TargetPolicy {
  /** LABELCAST_ALLOW_PRIVATE_TARGETS=true: no address is refused. */
  allowPrivate: boolean;
  /** LABELCAST_ALLOWED_TARGETS: addresses or CIDRs allowed even though private. */
  allowlist: net.BlockList | null;
}

export const HOW_TO_ALLOW =
  'set LABELCAST_ALLOW_PRIVATE_TARGETS=true (or list it in LABELCAST_ALLOWED_TARGETS, e.g. 10.0.0.0/8,127.0.0.1) to allow private targets';

/** One row of the IANA special-purpose address registries (or the multicast/site-local
 *  ranges they point to). Every row is refused; test/delivery/ssrf.test.ts probes the
 *  first and last address of each and a neighbour just outside. */
export interface SpecialRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
  readonly rfc: string;
  readonly name: string;
}

// IANA IPv4 Special-Purpose Address Registry (iana-ipv4-special-registry), in full,
// plus multicast (RFC 5771), which that registry leaves to its own.
export const SPECIAL_V4: readonly SpecialRange[] = [
  { address: '0.0.0.0', prefix: 8, family: 'ipv4', rfc: 'RFC 791', name: '"This network"' },
  { address: '10.0.0.0', prefix: 8, family: 'ipv4', rfc: 'RFC 1918', name: 'Private-Use' },
  { address: '100.64.0.0', prefix: 10, family: 'ipv4', rfc: 'RFC 6598', name: 'Shared Address Space' },
  { address: '127.0.0.0', prefix: 8, family: 'ipv4', rfc: 'RFC 1122', name: 'Loopback' },
  { address: '169.254.0.0', prefix: 16, family: 'ipv4', rfc: 'RFC 3927', name: 'Link Local' },
  { address: '172.16.0.0', prefix: 12, family: 'ipv4', rfc: 'RFC 1918', name: 'Private-Use' },
  { address: '192.0.0.0', prefix: 24, family: 'ipv4', rfc: 'RFC 6890', name: 'IETF Protocol Assignments (incl. 192.0.0.0/29 DS-Lite, .8, .9, .10, .170, .171)' },
  { address: '192.0.2.0', prefix: 24, family: 'ipv4', rfc: 'RFC 5737', name: 'Documentation (TEST-NET-1)' },
  { address: '192.31.196.0', prefix: 24, family: 'ipv4', rfc: 'RFC 7535', name: 'AS112-v4' },
  { address: '192.52.193.0', prefix: 24, family: 'ipv4', rfc: 'RFC 7450', name: 'AMT' },
  { address: '192.88.99.0', prefix: 24, family: 'ipv4', rfc: 'RFC 7526', name: 'Deprecated 6to4 Relay Anycast' },
  { address: '192.168.0.0', prefix: 16, family: 'ipv4', rfc: 'RFC 1918', name: 'Private-Use' },
  { address: '192.175.48.0', prefix: 24, family: 'ipv4', rfc: 'RFC 7534', name: 'Direct Delegation AS112 Service' },
  { address: '198.18.0.0', prefix: 15, family: 'ipv4', rfc: 'RFC 2544', name: 'Benchmarking' },
  { address: '198.51.100.0', prefix: 24, family: 'ipv4', rfc: 'RFC 5737', name: 'Documentation (TEST-NET-2)' },
  { address: '203.0.113.0', prefix: 24, family: 'ipv4', rfc: 'RFC 5737', name: 'Documentation (TEST-NET-3)' },
  { address: '224.0.0.0', prefix: 4, family: 'ipv4', rfc: 'RFC 5771', name: 'Multicast' },
  { address: '240.0.0.0', prefix: 4, family: 'ipv4', rfc: 'RFC 1112', name: 'Reserved' },
  { address: '255.255.255.255', prefix: 32, family: 'ipv4', rfc: 'RFC 8190', name: 'Limited Broadcast' },
];

// IANA IPv6 Special-Purpose Address Registry (iana-ipv6-special-registry), in full, plus
// the deprecated IPv4-compatible block ::/96 (RFC 4291 2.5.5.1: [::127.0.0.1] reached
// loopback before it was listed, issue 10 defect 7), site-local fec0::/10 (RFC 3879) and
// multicast ff00::/8 (RFC 4291).
export const SPECIAL_V6: readonly SpecialRange[] = [
  { address: '::', prefix: 128, family: 'ipv6', rfc: 'RFC 4291', name: 'Unspecified Address' },
  { address: '::1', prefix: 128, family: 'ipv6', rfc: 'RFC 4291', name: 'Loopback Address' },
  { address: '::', prefix: 96, family: 'ipv6', rfc: 'RFC 4291', name: 'IPv4-compatible (deprecated)' },
  { address: '::ffff:0:0', prefix: 96, family: 'ipv6', rfc: 'RFC 4291', name: 'IPv4-mapped Address' },
  { address: '64:ff9b::', prefix: 96, family: 'ipv6', rfc: 'RFC 6052', name: 'IPv4-IPv6 Translat.' },
  { address: '64:ff9b:1::', prefix: 48, family: 'ipv6', rfc: 'RFC 8215', name: 'IPv4-IPv6 Translat. (local)' },
  { address: '100::', prefix: 64, family: 'ipv6', rfc: 'RFC 6666', name: 'Discard-Only Address Block' },
  { address: '100:0:0:1::', prefix: 64, family: 'ipv6', rfc: 'RFC 9780', name: 'Dummy IPv6 Prefix' },
  { address: '2001::', prefix: 23, family: 'ipv6', rfc: 'RFC 2928', name: 'IETF Protocol Assignments (incl. TEREDO 2001::/32, ORCHIDv2 2001:20::/28)' },
  { address: '2001:db8::', prefix: 32, family: 'ipv6', rfc: 'RFC 3849', name: 'Documentation' },
  { address: '2002::', prefix: 16, family: 'ipv6', rfc: 'RFC 3056', name: '6to4' },
  { address: '2620:4f:8000::', prefix: 48, family: 'ipv6', rfc: 'RFC 7534', name: 'Direct Delegation AS112 Service' },
  { address: '3fff::', prefix: 20, family: 'ipv6', rfc: 'RFC 9637', name: 'Documentation' },
  { address: '5f00::', prefix: 16, family: 'ipv6', rfc: 'RFC 9602', name: 'Segment Routing (SRv6) SIDs' },
  { address: 'fc00::', prefix: 7, family: 'ipv6', rfc: 'RFC 4193', name: 'Unique-Local' },
  { address: 'fe80::', prefix: 10, family: 'ipv6', rfc: 'RFC 4291', name: 'Link-Local Unicast' },
  { address: 'fec0::', prefix: 10, family: 'ipv6', rfc: 'RFC 3879', name: 'Site-Local (deprecated)' },
  { address: 'ff00::', prefix: 8, family: 'ipv6', rfc: 'RFC 4291', name: 'Multicast' },
];

// Two lists: Node's BlockList matches an IPv4 address against IPv6 rules too (8.8.8.8 hit
// ::/96), so each family is checked only against its own rows.
const blockedV4 = new net.BlockList();
for (const r of SPECIAL_V4) blockedV4.addSubnet(r.address, r.prefix, r.family);
const blockedV6 = new net.BlockList();
for (const r of SPECIAL_V6) blockedV6.addSubnet(r.address, r.prefix, r.family);

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
  if ((v4 ? blockedV4 : blockedV6).check(addr, family)) return `${ip} is a private, loopback, link-local, multicast or reserved address; ${HOW_TO_ALLOW}`;
  return undefined;
}

/** The same check for a URL whose host is an IP literal (no lookup happens for those). */
export function literalRefusal(url: URL, policy: TargetPolicy): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return net.isIP(host) ? refusal(host, policy) : undefined;
}
