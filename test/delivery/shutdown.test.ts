// Stopping a dispatcher whose requests outlast the grace period: each request in flight is
// aborted (one stop signal shared by all jobs, delivery/dispatcher.ts), its lease handed back
// uncounted (no attempt, attempt_count unchanged), and stop() returns; on both databases.
import { afterEach, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { ok, startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';

describe.each(KINDS)('stopping with requests in flight, on %s', (kind) => {
  let api: TestApi | null = null;
  let rx: Receiver | null = null;
  let release: () => void = () => undefined;
  afterEach(async () => {
    release();
    await api?.close();
    await rx?.close();
    api = rx = null;
  });

  it('aborts them after the grace period and hands their deliveries back, uncounted', { timeout: 30_000 }, async () => {
    const held = new Promise<void>((r) => (release = r));
    rx = await startReceiver(async (r, n, res) => {
      await held;
      ok(r, n, res);
    });
    api = await setupApi(kind, { worker: true });
    const a = api;
    const project = (await a.call('POST', '/v1/projects', { body: { title: 'Held' } })).body;
    await a.call('POST', '/v1/notifications', { body: { title: 'held', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/held` }] } });
    for (let i = 0; i < 3; i++) await a.call('PATCH', `/v1/projects/${project.id}`, { body: { description: `change ${i}` } });
    await waitFor(() => rx!.received.length === 3, 'three requests held at the receiver');

    const started = Date.now();
    await a.dispatcher!.stop(300);
    // The grace period, then the aborts; not the requests' own timeout.
    expect(Date.now() - started).toBeLessThan(a.svc.delivery.timeoutMs);
    const ds = await a.store.db.selectFrom('deliveries').selectAll().execute();
    expect(ds).toHaveLength(3);
    for (const d of ds) expect(d).toMatchObject({ status: 'pending', attempt_count: 0, leased_by: null, lease_until: null });
    expect(await a.store.db.selectFrom('attempts').selectAll().execute()).toHaveLength(0);
  });
});
