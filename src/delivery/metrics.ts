// Prometheus metrics (/metrics). Counters and the latency histogram count what this process
// did; the backlog and channel gauges are read from the database at scrape time, so every
// process reports the same truth about the queue.
import client from 'prom-client';
import type { Store } from '../store/connect.js';
import { inStatus } from '../store/delivery-states.js';

export interface Metrics {
  registry: client.Registry;
  attempts: client.Counter<'outcome' | 'error_kind'>;
  deliveries: client.Counter<'outcome'>;
  latency: client.Histogram;
  inFlight: client.Gauge;
}

export function createMetrics(store: Store): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'labelcast_process_' });
  const attempts = new client.Counter({
    name: 'labelcast_attempts_total',
    help: 'Delivery attempts by outcome (success, failure) and error kind',
    labelNames: ['outcome', 'error_kind'],
    registers: [registry],
  });
  const deliveries = new client.Counter({
    name: 'labelcast_deliveries_total',
    help: 'Deliveries that reached a final state (succeeded, failed = dead-lettered) or were scheduled for retry (retrying)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new client.Histogram({
    name: 'labelcast_attempt_duration_seconds',
    help: 'Time from sending a webhook request to its complete response or error',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const inFlight = new client.Gauge({ name: 'labelcast_in_flight', help: 'Requests this process has in flight', registers: [registry] });
  new client.Gauge({
    name: 'labelcast_due_backlog',
    help: 'Pending deliveries that are due now',
    registers: [registry],
    async collect() {
      const now = Date.now();
      const row = await inStatus(
        store.db.selectFrom('deliveries').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min<number>('next_attempt_at').as('oldest')]),
        'pending',
      )
        .where('next_attempt_at', '<=', now)
        .executeTakeFirstOrThrow();
      this.set(Number(row.n));
      oldest.set(row.oldest === null ? 0 : (now - Number(row.oldest)) / 1000);
    },
  });
  const oldest = new client.Gauge({ name: 'labelcast_due_backlog_oldest_seconds', help: 'Age of the oldest due pending delivery', registers: [registry] });
  new client.Gauge({
    name: 'labelcast_disabled_channels',
    help: 'Channels disabled by failures (or a 410 Gone)',
    registers: [registry],
    async collect() {
      const row = await store.db.selectFrom('channels').select((eb) => eb.fn.countAll<number>().as('n')).where('disabled_at', 'is not', null).executeTakeFirstOrThrow();
      this.set(Number(row.n));
    },
  });
  return { registry, attempts, deliveries, latency, inFlight };
}
