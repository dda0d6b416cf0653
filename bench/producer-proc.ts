// Child process: Labelcast's producers, apart from the dispatcher they feed. It opens the
// same store as the dispatcher's process (the same SQLite file, in WAL mode with a busy
// timeout, every write transaction BEGIN IMMEDIATE; or the same PostgreSQL database), under
// the same sealing key (BENCH_SECRET_KEY, inherited), and runs the domain commands.
//
// Wake-ups: on PostgreSQL a commit reaches other processes' dispatchers by NOTIFY, as in a
// deployment with API and worker processes. SQLite is deployed as one process, where a commit
// wakes the dispatcher with a function call; here that call crosses to the dispatcher's
// process over IPC, one message per turn of this event loop at most. Without it the
// dispatcher would find new work only at its poll timer.
import { type Actor, type Services, type Store } from './labelcast.js';
import { openBenchStore, produce, produceAtRate, services, type StoreLocation } from './harness.js';
import { emit, rssSampler, serve } from './procs.js';

let store: Store | null = null;
let svc: Services;
let actor: Actor;
const mem = rssSampler();

let wakePending = false;
function wakeOverIpc() {
  if (wakePending) return;
  wakePending = true;
  setImmediate(() => {
    wakePending = false;
    emit('wake');
  });
}

serve({
  async open(o: { location: StoreLocation; actor: Actor; pgPoolSize: number }) {
    store = await openBenchStore(o.location, o.pgPoolSize);
    svc = services(store, {}, store.kind === 'sqlite' ? wakeOverIpc : () => undefined);
    actor = o.actor;
  },
  async produce({ ids, n, lanes }: { ids: number[]; n: number; lanes: number }) {
    const start = performance.now();
    await produce(svc, actor, ids, n, lanes);
    return { produce_per_s: n / ((performance.now() - start) / 1000) };
  },
  atRate: ({ ids, rate, seconds }: { ids: number[]; rate: number; seconds: number }) => produceAtRate(svc, actor, ids, rate, seconds),
  async close() {
    mem.stop();
    await store?.close();
    store = null;
    return { rss_mib: mem.peakMiB() };
  },
});
