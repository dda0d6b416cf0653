// The handoff (domain/handoff.ts): on SQLite a command's delivery is written leased to this
// process's dispatcher and sent at commit, without a claim, but only where the claim would
// have taken it at once. Every rule of the claim is checked here against a delivery that
// must stay pending instead: the channel's cap, a paced channel, a channel disabled by
// failures, a Retry-After (not_before), and an older due delivery waiting. On PostgreSQL
// there is no handoff (several workers share the caps through the claim's row locks).
import type http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { command } from '../../src/domain/context.js';
import { updateProject } from '../../src/domain/projects.js';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { startReceiver, waitFor as until, type Receiver } from '../helpers/receiver.js';

describe.each(KINDS)('handing deliveries to the dispatcher at commit on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  let channelId: number;
  let projectId: number;
  const held: http.ServerResponse[] = [];

  beforeEach(async () => {
    held.length = 0;
    rx = await startReceiver((_req, _n, res) => void held.push(res));
    // A long poll interval: a delivery left pending goes out on a wake-up, not on the timer.
    api = await setupApi(kind, { worker: true, delivery: { pollMs: 60_000 } });
    const created = await api.call('POST', '/v1/notifications', { body: { title: 'n', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/hook`, max_in_flight: 1 }] } });
    expect(created.status).toBe(201);
    channelId = Number((await api.store.db.selectFrom('channels').select('id').where('org_id', '=', api.a.id).executeTakeFirstOrThrow()).id);
    projectId = (await api.call('POST', '/v1/projects', { body: { title: 'p' } })).body.id;
  });
  afterEach(async () => {
    for (const res of held) res.writeHead(200).end('ok');
    await api.close();
    await rx.close();
  });

  const update = async (description: string) => expect((await api.call('PATCH', `/v1/projects/${projectId}`, { body: { description } })).status).toBe(200);
  const deliveries = () => api.store.db.selectFrom('deliveries').select(['id', 'event_id', 'status', 'leased_by', 'attempt_count']).where('channel_id', '=', channelId).orderBy('id').execute();
  const answerAll = async (n: number) => {
    while (rx.received.length < n || held.length > 0) {
      await until(() => held.length > 0 || rx.received.length >= n, 'the next request');
      held.shift()?.writeHead(200).end('ok');
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const succeeded = async (n: number) => until(async () => (await deliveries()).filter((d) => d.status === 'succeeded').length === n, `${n} deliveries recorded`);

  it(kind === 'sqlite' ? 'writes a delivery with room already leased, and sends it without a claim' : 'writes every delivery pending, for the claim', async () => {
    let claims = 0;
    const claim = api.store.tx.bind(api.store);
    (api.store as { tx: typeof claim }).tx = (fn, opts) => {
      if (opts?.durable === false) claims++;
      return claim(fn, opts);
    };
    // PostgreSQL: the dispatcher takes no handoff, whatever the channel's room.
    expect(api.dispatcher!.open(channelId)).toBe(kind === 'sqlite');
    await update('one');
    const [row] = await deliveries();
    // Committed leased, before any claim could have run.
    if (kind === 'sqlite') expect(row).toMatchObject({ status: 'sending', leased_by: api.dispatcher!.workerId, attempt_count: 0 });
    await until(() => held.length === 1, 'the request');
    if (kind === 'sqlite') expect(claims).toBe(0);
    await answerAll(1);
    await succeeded(1);
    expect((await deliveries())[0]).toMatchObject({ attempt_count: 1 });
    expect(rx.received).toHaveLength(1);
  });

  it("keeps the channel's cap: a delivery for a full channel waits for the claim, in order", async () => {
    await update('first');
    await until(() => held.length === 1, 'the first request');
    await update('second');
    await update('third');
    const rows = await deliveries();
    expect(rows.slice(1).map((d) => d.status)).toEqual(['pending', 'pending']);
    await answerAll(3);
    await succeeded(3);
    expect(rx.maxConcurrent).toBe(1);
    // Sent in the order their events committed.
    expect(rx.received.map((r) => r.json.data.event_id)).toEqual(rows.map((d) => d.event_id));
  });

  it('leaves deliveries pending for a paced, a disabled or a held-back channel', async () => {
    const cases: [string, Record<string, number | string | null>][] = [
      // Paced, and its last message just sent: the claim waits out the interval.
      ['paced', { min_interval_ms: 60_000, last_sent_at: Date.now() }],
      ['disabled by failures', { disabled_at: Date.now(), disabled_reason: 'test' }],
      ['held back by a Retry-After', { not_before: Date.now() + 60_000 }],
    ];
    const clear = { min_interval_ms: 0, last_sent_at: null, disabled_at: null, disabled_reason: null, not_before: null };
    for (const [what, set] of cases) {
      await api.store.db.updateTable('channels').set(set).where('id', '=', channelId).execute();
      await update(what);
      const last = (await deliveries()).at(-1)!;
      expect(last.status, what).toBe('pending');
      // Not sent while the channel is so.
      await new Promise((r) => setTimeout(r, 50));
      expect(rx.received, what).toHaveLength(0);
      await api.store.db.updateTable('channels').set(clear).where('id', '=', channelId).execute();
      await api.store.db.deleteFrom('deliveries').where('id', '=', last.id).execute();
    }
  });

  it('lets no new delivery overtake an older one that is due and waiting', async () => {
    // The first is held back by a Retry-After, and a claim that finds nothing it may take
    // runs meanwhile (the dispatcher then takes the channel to have nothing waiting).
    await api.store.db.updateTable('channels').set({ not_before: Date.now() + 60_000 }).where('id', '=', channelId).execute();
    await update('older');
    api.dispatcher!.wake();
    await new Promise((r) => setTimeout(r, 100));
    expect((await deliveries())[0]!.status).toBe('pending');
    // The Retry-After is over: the first is due, and no claim has run for it (no wake-up,
    // the poll is a minute away) when the second is written.
    await api.store.db.updateTable('channels').set({ not_before: null }).where('id', '=', channelId).execute();
    await update('newer');
    const rows = await deliveries();
    // The older one may have been claimed meanwhile (the newer one's wake-up); the newer one
    // was not handed off ahead of it.
    expect(rows[1]!.status).toBe('pending');
    await answerAll(2);
    await succeeded(2);
    expect(rx.received.map((r) => r.json.data.event_id)).toEqual(rows.map((d) => d.event_id));
  });

  it('gives the slot back when the command does not commit', async () => {
    const failed = command(api.svc, { org_id: api.a.id, user_id: api.a.adminId, email: 'admin@a.test', role: 'admin', api_key_id: null }, async (ctx) => {
      await updateProject(ctx, projectId, { description: 'rolled back' });
      throw new Error('the command fails after its event');
    });
    await expect(failed).rejects.toThrow('the command fails');
    expect(await deliveries()).toHaveLength(0);
    // The channel's one slot is free: the next delivery is handed off (SQLite) or claimed.
    await update('after');
    if (kind === 'sqlite') expect((await deliveries())[0]!.status).toBe('sending');
    await answerAll(1);
    await succeeded(1);
    expect(rx.received).toHaveLength(1);
  });

  it('keeps the cap while claims of retries and handoffs of new events interleave', async () => {
    // Every other request fails (its retry falls due 0, 50 and 100 ms later, and is claimed),
    // the others are answered after a few milliseconds; new events meanwhile are handed off.
    rx.behave((_req, n, res) => void setTimeout(() => res.writeHead(n % 2 === 0 ? 500 : 200).end('ok'), n % 3));
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 60) await update(`change ${next++}`);
    }));
    await until(async () => (await deliveries()).every((d) => d.status === 'succeeded' || d.status === 'failed'), 'every delivery settled', 20_000);
    expect(await deliveries()).toHaveLength(60);
    expect(rx.maxConcurrent).toBe(1);
  });

  it('leaves no delivery leased when it stops while commands hand deliveries off', async () => {
    await api.store.db.updateTable('channels').set({ max_in_flight: 50 }).where('id', '=', channelId).execute();
    const commands = Array.from({ length: 40 }, (_, i) => update(`during stop ${i}`));
    await new Promise((r) => setTimeout(r, 5));
    await api.dispatcher!.stop(100);
    await Promise.all(commands);
    const rows = await deliveries();
    expect(rows).toHaveLength(40);
    // Sent and recorded, or handed back for the next start: none stays leased to a stopped worker.
    expect(rows.filter((d) => d.status === 'sending')).toEqual([]);
  });
});

describe('channels opened for sending, kept across batches', () => {
  it('opens a channel again once its secret or config text changes, and keeps no error', async () => {
    const { OpenedChannels } = await import('../../src/delivery/prepare.js');
    const { keyFrom, keyring, seal } = await import('../../src/store/seal.js');
    const ring = keyring(keyFrom(Buffer.alloc(32, 7)));
    const row = (secret: string | null, config = '{"url":"http://127.0.0.1/a","headers":{}}') =>
      ({ id: 1, kind: 'webhook', secret, previous_secret: null, config }) as never;
    const kept = new OpenedChannels(2);
    const first = kept.get(ring, row(seal(ring, 'whsec_one')));
    expect(first).toMatchObject({ secrets: ['whsec_one', null] });
    const sealedOne = seal(ring, 'whsec_one');
    const again = kept.get(ring, row(sealedOne));
    // A new sealed text (a rotation re-seals): opened anew, same value.
    expect(again).not.toBe(first);
    expect(kept.get(ring, row(sealedOne))).toBe(again);
    expect(kept.get(ring, row(seal(ring, 'whsec_two')))).toMatchObject({ secrets: ['whsec_two', null] });
    expect(kept.get(ring, row(sealedOne, '{"url":"http://127.0.0.1/b","headers":{}}'))).toMatchObject({ config: { url: 'http://127.0.0.1/b' } });
    // Sealed under a key this ring does not hold: an error each time, never kept.
    const other = keyring(keyFrom(Buffer.alloc(32, 9)));
    const foreign = seal(other, 'whsec_x');
    expect(kept.get(ring, row(foreign))).toBeInstanceOf(Error);
    expect(kept.get(other, row(foreign))).toMatchObject({ secrets: ['whsec_x', null] });
  });
});
