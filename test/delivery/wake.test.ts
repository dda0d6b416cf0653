// A command wakes the dispatcher with the channels its deliveries are for
// (domain/routing.ts signalWork, delivery/dispatcher.ts wake). While the last claim left
// every one of those channels at its cap, the wake-up claims nothing and is skipped; a
// wake-up for a channel with room still claims at once, and every skipped delivery is sent
// once a slot frees (at 1,000 commands/s each command's claim found its channel full:
// docs/performance.md, round 4).
import type http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';

describe.each(KINDS)('waking the dispatcher on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  const held: http.ServerResponse[] = [];

  beforeEach(async () => {
    held.length = 0;
    rx = await startReceiver((req, _n, res) => {
      if (req.path.startsWith('/full')) held.push(res);
      else res.writeHead(200).end('ok');
    });
    // A long poll interval: claims here come from wake-ups, not from the timer.
    api = await setupApi(kind, { worker: true, delivery: { pollMs: 60_000 } });
  });
  afterEach(async () => {
    for (const res of held) res.writeHead(200).end('ok');
    await api.close();
    await rx.close();
  });

  it('skips claims for channels the last claim left full, and still claims for one with room', async () => {
    const notify = async (title: string, trigger: string, path: string, maxInFlight: number) =>
      expect((await api.call('POST', '/v1/notifications', { body: { title, triggers: [trigger], channels: [{ type: 'webhook', url: `${rx.url}${path}`, max_in_flight: maxInFlight }] } })).status).toBe(201);
    await notify('capped', 'project.updated', '/full', 1);
    await notify('open', 'project.created', '/open', 10);
    const project = (await api.call('POST', '/v1/projects', { body: { title: 'p' } })).body;
    await waitFor(() => rx.received.some((r) => r.path === '/open'), 'the first project.created');

    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'fills the channel' } });
    await waitFor(() => held.length === 1, 'the capped channel to fill');
    // Let the claim that filled it finish and say so.
    await new Promise((r) => setTimeout(r, 100));

    // Count the dispatcher's claims from here (its transactions that are not commands).
    let claims = 0;
    const tx = api.store.tx.bind(api.store);
    (api.store as { tx: typeof tx }).tx = (fn, opts) => {
      if (opts?.durable === false) claims++;
      return tx(fn, opts);
    };
    for (let i = 0; i < 20; i++) expect((await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: `change ${i}` } })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(claims).toBe(0);

    // New work for a channel with room is claimed and sent at once.
    await api.call('POST', '/v1/projects', { body: { title: 'q' } });
    await waitFor(() => rx.received.filter((r) => r.path === '/open').length === 2, 'the second project.created');
    // On PostgreSQL a claim is one statement, not a transaction: what this count sees there is
    // the record of the attempt, which commits after the response just awaited, so wait for it.
    await waitFor(() => claims > 0, "the dispatcher's transaction for the channel with room");

    // Nothing skipped is lost: each response frees the slot and the next update goes out.
    while (rx.received.filter((r) => r.path === '/full').length < 21) {
      await waitFor(() => held.length > 0, 'the next held request');
      held.shift()!.writeHead(200).end('ok');
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(rx.received.filter((r) => r.path === '/full')).toHaveLength(21);
  });
});

describe('the channels a work NOTIFY names', () => {
  it('reads the ids coalescedNotify wrote, and treats anything else as naming none', async () => {
    const { notifiedChannels } = await import('../../src/store/connect.js');
    expect(notifiedChannels('3,17,4')).toEqual([3, 17, 4]);
    // An empty payload (too many channels, or a signal that named none) wakes every listener.
    expect(notifiedChannels('')).toBeUndefined();
    expect(notifiedChannels(undefined)).toBeUndefined();
    // A NOTIFY sent by hand (or by an older version) must not make a dispatcher skip work.
    expect(notifiedChannels('work')).toBeUndefined();
    expect(notifiedChannels('3,,4')).toBeUndefined();
    expect(notifiedChannels('-1')).toBeUndefined();
  });
});

describe('the wake-up of a command that emits several events', () => {
  it('is one per command, naming every channel, or none once a signal named none', async () => {
    const { signalWork } = await import('../../src/domain/routing.js');
    const run = async (signals: (number[] | undefined)[]) => {
      const woke: (readonly number[] | undefined)[] = [];
      const notified: (readonly number[] | undefined)[] = [];
      const ctx = { afterCommit: [] as (() => void)[], svc: { wake: (c?: readonly number[]) => woke.push(c) }, store: { notifyWork: (c?: readonly number[]) => notified.push(c) } };
      for (const s of signals) await signalWork(ctx as never, s);
      expect(ctx.afterCommit).toHaveLength(1);
      for (const f of ctx.afterCommit) f();
      expect(notified).toEqual(woke);
      return woke;
    };
    expect(await run([[1, 2], [2, 3]])).toEqual([[1, 2, 3]]);
    expect(await run([[1, 2], undefined, [3]])).toEqual([undefined]);
  });
});
