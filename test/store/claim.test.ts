// The delivery queue's claim and completion (store/queue/claim.ts, complete.ts), on both
// databases, called directly so each rule is seen on its own:
// - a channel's cap counts requests at the receiver: this worker's answered but unrecorded
//   attempts (not in ownInFlight) free their slots; other workers' leases always count;
// - one completion statement moves each delivery of a batch to its own next state, only
//   under this worker's lease and only from the transition's from-states.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { claimDue } from '../../src/store/queue/claim.js';
import { finishLeasedAll } from '../../src/store/queue/complete.js';

describe.each(KINDS)('the delivery queue on %s', (kind) => {
  let api: TestApi;
  let channelId: number;

  beforeEach(async () => {
    api = await setupApi(kind);
    const project = (await api.call('POST', '/v1/projects', { body: { title: 'queue' } })).body;
    const n = await api.call('POST', '/v1/notifications', {
      body: { title: 'capped', triggers: ['project.updated'], channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook', max_in_flight: 3 }] },
    });
    expect(n.status).toBe(201);
    channelId = n.body.channels[0].id;
    for (let i = 0; i < 6; i++) expect((await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: `change ${i}` } })).status).toBe(200);
  });
  afterEach(async () => {
    await api.close();
  });

  const claimWith = (workerId: string, budget: number, ownInFlight?: Map<number, number>) =>
    claimDue(api.store, { now: Date.now() + 1, budget, leaseMs: 60_000, workerId, rotateAfter: 0, ...(ownInFlight ? { ownInFlight } : {}) });
  const claim = async (workerId: string, ownInFlight?: Map<number, number>) => (await claimWith(workerId, 100, ownInFlight)).rows;
  const rows = () => api.store.db.selectFrom('deliveries').selectAll().orderBy('id').execute();

  it("counts this worker's requests from what it has in flight, and other workers' leases from the database", async () => {
    const first = await claim('w1', new Map());
    expect(first.map((d) => d.status)).toEqual(['sending', 'sending', 'sending']);
    expect(first.every((d) => d.leased_by === 'w1')).toBe(true);
    // Oldest first, whole rows (the prepare stage reads nothing back).
    const all = await rows();
    expect(first.map((d) => d.id)).toEqual(all.slice(0, 3).map((d) => d.id));
    expect(first[0]!.event_id).toBe(all[0]!.event_id);

    // All three requests still at the receiver: the channel is full.
    expect(await claim('w1', new Map([[channelId, 3]]))).toHaveLength(0);
    // Two answered, their attempts not recorded yet: two slots are free again.
    const more = await claim('w1', new Map([[channelId, 1]]));
    expect(more).toHaveLength(2);
    // Another worker sees five leased rows, answered or not, and takes nothing.
    expect(await claim('w2')).toHaveLength(0);
    expect((await rows()).filter((d) => d.status === 'sending')).toHaveLength(5);
  });

  it('says whether claiming again at once could find more', async () => {
    // The worker's budget ran out before the channel's room did: more is there.
    const cut = await claimWith('w1', 2, new Map());
    expect(cut.rows).toHaveLength(2);
    expect(cut.more).toBe(true);
    expect(cut.drained).toEqual([]);
    // The channel filled to its cap (3): nothing more until a response frees a slot.
    const filled = await claimWith('w1', 100, new Map([[channelId, 2]]));
    expect(filled.rows).toHaveLength(1);
    expect(filled.more).toBe(false);
    // Drained: with room for seven more, the three rows left are all taken, nothing more is due.
    await api.store.db.updateTable('channels').set({ max_in_flight: 10 }).where('id', '=', channelId).execute();
    const drained = await claimWith('w1', 100, new Map([[channelId, 3]]));
    expect(drained.rows).toHaveLength(3);
    expect(drained.more).toBe(false);
    expect(drained.drained).toEqual([channelId]);
    expect((await claimWith('w1', 100, new Map())).rows).toHaveLength(0);
  });

  it('names a channel drained when its last due rows exactly fill its free slots, and not when rows are left', async () => {
    // Cap 3, six due rows: three are left, so it is full, not drained.
    const capped = await claimWith('w1', 100, new Map());
    expect(capped.rows).toHaveLength(3);
    expect(capped.full).toEqual([channelId]);
    expect(capped.drained).toEqual([]);
    // Cap 6 with those three in flight: the three left fill the three free slots exactly.
    await api.store.db.updateTable('channels').set({ max_in_flight: 6 }).where('id', '=', channelId).execute();
    const exact = await claimWith('w1', 100, new Map([[channelId, 3]]));
    expect(exact.rows).toHaveLength(3);
    expect(exact.full).toEqual([channelId]);
    expect(exact.drained).toEqual(kind === 'sqlite' ? [channelId] : []);
  });

  it('names the channels it drained even when channels past its limit have more', async () => {
    // A second channel with due work, past a limit of one channel per claim.
    const other = await api.call('POST', '/v1/notifications', { body: { title: 'other', triggers: ['project.updated'], channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/o', max_in_flight: 10 }] } });
    const project = (await api.call('POST', '/v1/projects', { body: { title: 'other' } })).body;
    expect((await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'x' } })).status).toBe(200);
    await api.store.db.updateTable('channels').set({ max_in_flight: 10 }).where('id', '=', channelId).execute();
    const first = await claimDue(api.store, { now: Date.now() + 1, budget: 100, leaseMs: 60_000, workerId: 'w1', rotateAfter: 0, channelLimit: 1, ownInFlight: new Map() });
    // The first channel's seven due rows (six updates, and the second project's), all of them.
    expect(first.rows).toHaveLength(7);
    expect(first.rows.every((d) => d.channel_id === channelId)).toBe(true);
    expect(first.more).toBe(true);
    expect(first.drained).toEqual([channelId]);
    const second = await claimDue(api.store, { now: Date.now() + 1, budget: 100, leaseMs: 60_000, workerId: 'w1', rotateAfter: channelId, channelLimit: 1, ownInFlight: new Map() });
    expect(second.rows.map((d) => d.channel_id)).toEqual([other.body.channels[0].id]);
    expect(second.drained).toEqual([other.body.channels[0].id]);
  });

  it('shares the budget across channels in rotation order, names the full ones, and paces the paced', async () => {
    // Two more channels on the same trigger: 6 due rows each. `capped` (cap 3), then these.
    const more = await api.call('POST', '/v1/notifications', {
      body: { title: 'more', triggers: ['project.updated'], channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/a', max_in_flight: 4 }, { type: 'webhook', url: 'http://127.0.0.1:9/b', max_in_flight: 10 }] },
    });
    const [a, b] = more.body.channels.map((c: { id: number }) => c.id) as [number, number];
    const project = (await api.call('POST', '/v1/projects', { body: { title: 'second' } })).body;
    for (let i = 0; i < 6; i++) expect((await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: `again ${i}` } })).status).toBe(200);
    await api.store.db.updateTable('channels').set({ min_interval_ms: 1000 }).where('id', '=', a).execute();
    const byChannel = (r: { channel_id: number }[]) => r.reduce((m, d) => m.set(d.channel_id, (m.get(d.channel_id) ?? 0) + 1), new Map<number, number>());

    // Budget 6: the capped channel's 3 free slots first (lowest id), then 3 of a's 4; b waits.
    const first = await claimWith('w1', 6, new Map());
    expect(byChannel(first.rows)).toEqual(new Map([[channelId, 3], [a, 3]]));
    // Channel by channel, each oldest first.
    expect(first.rows.map((d) => d.channel_id)).toEqual([channelId, channelId, channelId, a, a, a]);
    expect(first.rows.slice(0, 3).map((d) => d.id)).toEqual([...first.rows.slice(0, 3).map((d) => d.id)].sort((x, y) => x - y));
    expect(first.more).toBe(true);
    expect(first.full).toEqual([channelId]);
    // The paced channel remembers it sent; the others do not.
    const sent = new Map((await api.store.db.selectFrom('channels').select(['id', 'last_sent_at']).execute()).map((c) => [c.id, c.last_sent_at]));
    expect(sent.get(a)).not.toBeNull();
    expect(sent.get(b)).toBeNull();
    expect(sent.get(channelId)).toBeNull();

    // The capped channel is still full (named again) and a is paced for a second: b gives its 6.
    const next = await claimWith('w1', 100, new Map([[channelId, 3], [a, 3]]));
    expect(next.rows.map((d) => d.channel_id)).toEqual(Array(6).fill(b));
    expect(next.full).toEqual([channelId]);
    expect(next.more).toBe(false);
  });

  it("moves each delivery of a batch to its own next state, under this worker's lease only", async () => {
    const mine = await claim('w1', new Map());
    const [a, b, c] = mine.map((d) => d.id) as [number, number, number];
    const now = Date.now();
    await finishLeasedAll(api.store.db as never, kind, 'w1', [
      { id: a, transition: 'succeed', attemptCount: 1, lastStatus: 200, lastError: null },
      { id: b, transition: 'retry', attemptCount: 1, lastStatus: 500, lastError: 'receiver answered 500', retryIndex: 1, nextAttemptAt: now + 5_000 },
      { id: c, transition: 'fail', attemptCount: 1, lastStatus: 410, lastError: "it's gone" },
    ], now);
    const byId = new Map((await rows()).map((d) => [d.id, d]));
    expect(byId.get(a)).toMatchObject({ status: 'succeeded', attempt_count: 1, last_status: 200, last_error: null, leased_by: null, lease_until: null, completed_at: now });
    expect(byId.get(b)).toMatchObject({ status: 'pending', attempt_count: 1, last_status: 500, last_error: 'receiver answered 500', retry_index: 1, next_attempt_at: now + 5_000, completed_at: null, leased_by: null });
    expect(byId.get(c)).toMatchObject({ status: 'failed', last_status: 410, last_error: "it's gone", completed_at: now });

    // w2 leases the next row; w1 cannot finish it, and a finished row cannot be finished again.
    const theirs = (await claim('w2'))[0]!;
    await finishLeasedAll(api.store.db as never, kind, 'w1', [
      { id: theirs.id, transition: 'succeed', attemptCount: 1, lastStatus: 200, lastError: null },
      { id: a, transition: 'fail', attemptCount: 2, lastStatus: 500, lastError: 'late' },
    ], now + 1);
    const after = new Map((await rows()).map((d) => [d.id, d]));
    expect(after.get(theirs.id)).toMatchObject({ status: 'sending', leased_by: 'w2', attempt_count: 0 });
    expect(after.get(a)).toMatchObject({ status: 'succeeded', attempt_count: 1 });

    // A delivery cancelled while in flight (its channel deleted) is cancelled again with
    // the attempt counted: cancel moves from cancelled too.
    await api.store.db.updateTable('deliveries').set({ status: 'cancelled' }).where('id', '=', theirs.id).execute();
    await finishLeasedAll(api.store.db as never, kind, 'w2', [{ id: theirs.id, transition: 'cancel', attemptCount: 1, lastStatus: 200, lastError: 'its channel was deleted' }], now + 2);
    expect((await rows()).find((d) => d.id === theirs.id)).toMatchObject({ status: 'cancelled', attempt_count: 1, leased_by: null, completed_at: now + 2 });
  });
});
