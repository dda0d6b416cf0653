// Child process: the receiver (receiver.ts). argv[2]: answer delay in ms.
import { serve, whenTrue } from './procs.js';
import { startReceiver } from './receiver.js';

const rx = await startReceiver(Number(process.argv[2] ?? 0));
serve({
  url: () => rx.url,
  count: () => rx.count,
  record: (on: boolean) => void (rx.recordLatency = on),
  latencies: () => rx.latencies,
  /** Resolves once n requests were answered. */
  waitCount: ({ n, timeoutMs }: { n: number; timeoutMs: number }) => whenTrue(() => rx.count >= n, timeoutMs, `${n} requests at the receiver (got ${rx.count})`),
  close: () => rx.close(),
});
