// Applies the address policy (model/addresses.ts) where names resolve: at connect time, so a
// hostname that resolves to 127.0.0.1, or is re-pointed there after the channel was saved, is
// refused too.
import dns from 'node:dns';
import { refusal, type TargetPolicy } from '../model/addresses.js';

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

/**
 * Behind a proxy the connection's own DNS lookup is the proxy's, so the guard cannot run at
 * connect time: resolve the name here and refuse it if any address is refused. Resolution
 * failures are left to the proxy to report.
 */
export async function refusalByDns(url: URL, policy: TargetPolicy): Promise<string | undefined> {
  if (policy.allowPrivate) return undefined;
  try {
    for (const a of await dns.promises.lookup(url.hostname, { all: true })) {
      const why = refusal(a.address, policy);
      if (why) return `${url.hostname} resolves to ${why}`;
    }
  } catch {
    return undefined;
  }
  return undefined;
}
