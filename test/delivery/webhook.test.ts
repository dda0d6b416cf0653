// Notifications and webhook delivery end to end: events produced through the API reach a
// real receiver on 127.0.0.1, signed (verified with the standardwebhooks package), recorded,
// retried, dead-lettered and resendable; on both databases.
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { ok, startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';

describe.each(KINDS)('webhook delivery on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  let project: any;

  beforeAll(async () => {
    api = await setupApi(kind, { worker: true });
    project = (await api.call('POST', '/v1/projects', { body: { title: 'Hooks' } })).body;
  });
  afterAll(async () => api?.close());
  afterEach(async () => rx?.close());

  async function notify(body: Record<string, unknown>, channel: Record<string, unknown> = {}) {
    const res = await api.call('POST', '/v1/notifications', {
      body: { title: 'n', triggers: ['all'], scope: { projects: [project.id] }, ...body, channels: [{ type: 'webhook', url: `${rx.url}/hook`, ...channel }] },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function submittedTask() {
    const t = (await api.call('POST', `/v1/projects/${project.id}/tasks`, { body: { tasks: [{ data: { image: 'x.png' } }] } })).body.tasks[0];
    const label = (await api.call('POST', `/v1/tasks/${t.id}/labels`, { body: { result: [{ v: 1 }], time_ms: 10 } })).body;
    await api.call('POST', `/v1/tasks/${t.id}/submit`);
    return { t, label };
  }

  async function deliveriesOf(channelId: number) {
    return (await api.call('GET', `/v1/deliveries?channel_id=${channelId}&limit=500`)).body.data as any[];
  }

  async function settled(channelId: number, n: number) {
    return waitFor(async () => {
      const ds = await deliveriesOf(channelId);
      return ds.length >= n && ds.every((d) => d.status === 'succeeded' || d.status === 'failed') ? ds : null;
    }, `${n} settled deliveries on channel ${channelId}`);
  }

  // Issue 10 defect 6: a standard webhook created without `secret` went out unsigned.
  it('signs by default: a secret is generated and returned once; secret false is the only way to unsigned', async () => {
    rx = await startReceiver();
    const signed = (await notify({ triggers: ['task.submitted'] })).channels[0];
    expect(signed.secret).toMatch(/^whsec_/);
    expect(signed.signed).toBe(true);
    expect((await api.call('GET', `/v1/channels/${signed.id}`)).body.secret).toBeUndefined();
    await submittedTask();
    const got = await waitFor(() => rx.received[0], 'the default-signed webhook');
    expect(got.headers['webhook-signature']).toMatch(/^v1,/);
    expect((new Webhook(signed.secret).verify(got.body, got.headers as Record<string, string>) as any).type).toBe('task.submitted');
    await api.call('DELETE', `/v1/notifications/${signed.notification}`);
    await rx.close();

    rx = await startReceiver();
    const unsigned = (await notify({ triggers: ['task.submitted'] }, { secret: false })).channels[0];
    expect(unsigned.secret).toBeUndefined();
    expect(unsigned.signed).toBe(false);
    await submittedTask();
    const plain = await waitFor(() => rx.received[0], 'the unsigned webhook');
    expect(plain.headers['webhook-signature']).toBeUndefined();
    expect(JSON.parse(plain.body).type).toBe('task.submitted');
    await api.call('DELETE', `/v1/notifications/${unsigned.notification}`);
  });

  it('delivers matching events signed per Standard Webhooks and records the attempt', async () => {
    rx = await startReceiver();
    const n = await notify({ triggers: ['task.submitted'] }, { secret: true, headers: { 'X-Team': 'vision', Authorization: 'Bearer abc123' } });
    const channel = n.channels[0];
    expect(channel.secret).toMatch(/^whsec_/);
    expect(channel.headers.Authorization).toBe('Be****');
    const { t, label } = await submittedTask();
    const got = await waitFor(() => rx.received[0], 'the webhook');
    // Only task.submitted: task.created and annotation.created were not triggers.
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.received).toHaveLength(1);
    const payload = new Webhook(channel.secret).verify(got.body, got.headers as Record<string, string>) as any;
    expect(payload.type).toBe('task.submitted');
    expect(payload.data.task.id).toBe(t.id);
    expect(payload.data.labels[0].label_hash).toBe(label.label_hash);
    expect(payload.data.project_id).toBe(project.id);
    expect(got.headers['x-team']).toBe('vision');
    expect(got.headers['authorization']).toBe('Bearer abc123');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['webhook-id']).toBe(payload.data.event_id);
    // A tampered body fails verification: the signature covers the exact bytes.
    expect(() => new Webhook(channel.secret).verify(got.body.replace('task.submitted', 'task.completed'), got.headers as Record<string, string>)).toThrow();

    const [d] = await settled(channel.id, 1);
    expect(d).toMatchObject({ status: 'succeeded', attempt_count: 1, event_type: 'task.submitted', last_status: 200 });
    const full = (await api.call('GET', `/v1/deliveries/${d.id}`)).body;
    expect(full.attempts).toHaveLength(1);
    const a = full.attempts[0];
    expect(a).toMatchObject({ attempt_no: 1, outcome: 'success', response_status: 200, response_body: '{"ok":true}', error_kind: null, url: `${rx.url}/hook` });
    expect(a.request_body).toBe(got.body);
    // Kept by reference: the attempt row holds no second copy of the event's body; the API
    // rendered it again from the event, byte for byte what the receiver got (above).
    const stored = await api.store.db.selectFrom('attempts').select(['request_body', 'request_body_from']).where('id', '=', a.id).executeTakeFirstOrThrow();
    expect(stored).toEqual({ request_body: '', request_body_from: 'standard/1' });
    expect(a.request_headers['webhook-signature']).toMatch(/^v1,/);
    expect(a.request_headers['Authorization']).toBe('Be****');
    expect(a.latency_ms).toBeGreaterThan(0);
  });

  it('matches scope and triggers, skips inactive ones, and never sends earlier events to a new notification', async () => {
    rx = await startReceiver();
    const other = (await api.call('POST', '/v1/projects', { body: { title: 'Other' } })).body;
    const scoped = await notify({ triggers: ['task.created'] });
    const orgWide = (await api.call('POST', '/v1/notifications', { body: { title: 'org', triggers: ['project.created', 'task.created'], scope: { projects: 'all' }, channels: [{ type: 'webhook', url: `${rx.url}/org` }] } })).body;
    const inactive = await notify({ triggers: ['all'], active: false });
    const offChannel = await notify({ triggers: ['all'] }, { active: false });
    await api.call('POST', `/v1/projects/${other.id}/tasks`, { body: { tasks: [{ data: {} }] } });
    await api.call('POST', `/v1/projects/${project.id}/tasks`, { body: { tasks: [{ data: {} }] } });
    await api.call('POST', '/v1/projects', { body: { title: 'Third' } });
    const late = await notify({ triggers: ['task.created'] });
    await settled(orgWide.channels[0].id, 3);
    const scopedD = await settled(scoped.channels[0].id, 1);
    expect(scopedD).toHaveLength(1);
    const orgTypes = (await deliveriesOf(orgWide.channels[0].id)).map((d) => d.event_type);
    expect(orgTypes).toEqual(['task.created', 'task.created', 'project.created']);
    expect(await deliveriesOf(inactive.channels[0].id)).toEqual([]);
    expect(await deliveriesOf(offChannel.channels[0].id)).toEqual([]);
    expect(await deliveriesOf(late.channels[0].id)).toEqual([]);
    // A PATCH that narrows the triggers applies to the next event.
    await api.call('PATCH', `/v1/notifications/${orgWide.id}`, { body: { triggers: ['project.created'] } });
    await api.call('POST', `/v1/projects/${project.id}/tasks`, { body: { tasks: [{ data: {} }] } });
    expect((await deliveriesOf(orgWide.channels[0].id)).length).toBe(3);
  });

  it('retries failures on the schedule until a 2xx, recording each attempt', async () => {
    rx = await startReceiver((_r, n, res) => {
      if (n <= 2) res.writeHead(500).end('boom');
      else ok(_r, n, res);
    });
    const n = await notify({ triggers: ['project.updated'] });
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'retry me' } });
    const [d] = await settled(n.channels[0].id, 1);
    expect(d).toMatchObject({ status: 'succeeded', attempt_count: 3 });
    const attempts = (await api.call('GET', `/v1/deliveries/${d.id}`)).body.attempts;
    expect(attempts.map((a: any) => [a.attempt_no, a.response_status, a.error_kind])).toEqual([
      [1, 500, 'status'],
      [2, 500, 'status'],
      [3, 200, null],
    ]);
    expect(attempts[0].response_body).toBe('boom');
    // Schedule [0, 50 ms, 100 ms], no jitter in tests: the gaps are at least the schedule's.
    expect(rx.received[1]!.at - rx.received[0]!.at).toBeGreaterThanOrEqual(45);
    expect(rx.received[2]!.at - rx.received[1]!.at).toBeGreaterThanOrEqual(95);
    // The same message id on every try, so receivers can de-duplicate.
    expect(new Set(rx.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    // A success resets the channel's failure streak.
    expect((await api.call('GET', `/v1/channels/${n.channels[0].id}`)).body.health).toMatchObject({ state: 'healthy', failure_streak: 0 });
  });

  it('dead-letters after the last attempt; resend and recover send it again', async () => {
    let fail = true;
    rx = await startReceiver((_r, n, res) => (fail ? res.writeHead(503).end() : ok(_r, n, res)));
    const n = await notify({ triggers: ['project.updated'] });
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'dead' } });
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'dead 2' } });
    const ds = await settled(n.channels[0].id, 2);
    expect(ds.map((d) => [d.status, d.attempt_count])).toEqual([['failed', 3], ['failed', 3]]);
    expect(ds[0].last_error).toMatch(/503.*all 3 attempts failed/);
    expect((await api.call('GET', `/v1/deliveries?channel_id=${n.channels[0].id}&status=failed`)).body.data).toHaveLength(2);
    fail = false;
    const resent = await api.call('POST', `/v1/deliveries/${ds[0].id}/resend`);
    expect(resent.status).toBe(202);
    await waitFor(async () => (await api.call('GET', `/v1/deliveries/${ds[0].id}`)).body.status === 'succeeded', 'the resend');
    expect((await api.call('GET', `/v1/deliveries/${ds[0].id}`)).body.attempt_count).toBe(4);
    const again = await api.call('POST', `/v1/deliveries/${ds[0].id}/resend`);
    expect(again.status).toBe(202);
    const rec = await api.call('POST', `/v1/channels/${n.channels[0].id}/recover`, { body: { since: new Date(Date.now() - 60_000).toISOString() } });
    expect(rec.body.recovered).toBe(1);
    await settled(n.channels[0].id, 2);
    expect((await deliveriesOf(n.channels[0].id)).map((d) => d.status)).toEqual(['succeeded', 'succeeded']);
  });

  it('records timeouts, connection resets and refusals as failed attempts with their kind', async () => {
    await api.close();
    api = await setupApi(kind, { worker: true, delivery: { timeoutMs: 300, schedule: [0, 20, 20] } });
    project = (await api.call('POST', '/v1/projects', { body: { title: 'Hooks' } })).body;
    rx = await startReceiver((_r, n, res) => {
      if (n === 1) return; // hang past the timeout
      if (n === 2) {
        res.socket?.destroy(); // reset the connection
        return;
      }
      ok(_r, n, res);
    });
    const n = await notify({ triggers: ['project.updated'] });
    const closed = await startReceiver();
    const deadUrl = `${closed.url}/gone`;
    await closed.close();
    await api.call('POST', `/v1/notifications/${n.id}/channels`, { body: { type: 'webhook', url: deadUrl } });
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'faults' } });
    const [d] = await settled(n.channels[0].id, 1);
    const kinds = (await api.call('GET', `/v1/deliveries/${d.id}`)).body.attempts.map((a: any) => a.error_kind);
    expect(kinds).toEqual(['timeout', 'connection_reset', null]);
    const refusedChannel = (await api.call('GET', `/v1/notifications/${n.id}`)).body.channels[1];
    const [r] = await settled(refusedChannel.id, 1);
    const refused = (await api.call('GET', `/v1/deliveries/${r.id}`)).body.attempts;
    expect(refused.map((a: any) => a.error_kind)).toEqual(['connection_refused', 'connection_refused', 'connection_refused']);
    // TLS spoken to a plain HTTP port, and a name that does not resolve.
    const tls = (await api.call('POST', `/v1/notifications/${n.id}/channels`, { body: { type: 'webhook', url: rx.url.replace('http:', 'https:') } })).body;
    const dns = (await api.call('POST', `/v1/notifications/${n.id}/channels`, { body: { type: 'webhook', url: 'http://does-not-exist.invalid/hook' } })).body;
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'tls and dns' } });
    for (const [channel, kind] of [[tls, 'tls'], [dns, 'dns']] as const) {
      const [x] = await settled(channel.id, 1);
      const first = (await api.call('GET', `/v1/deliveries/${x.id}`)).body.attempts[0];
      expect(first.error_kind, first.error_message).toBe(kind);
    }
  });

  it('honours Retry-After on 429', async () => {
    rx = await startReceiver((_r, n, res) => (n === 1 ? res.writeHead(429, { 'retry-after': '1' }).end() : ok(_r, n, res)));
    const n = await notify({ triggers: ['project.updated'] });
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'slow down' } });
    await settled(n.channels[0].id, 1);
    expect(rx.received).toHaveLength(2);
    expect(rx.received[1]!.at - rx.received[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('disables the channel on 410 Gone, holds later events, and resumes on re-enable', async () => {
    let gone = true;
    rx = await startReceiver((_r, n, res) => (gone ? res.writeHead(410).end() : ok(_r, n, res)));
    const n = await notify({ triggers: ['project.updated'] });
    const cid = n.channels[0].id;
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'gone 1' } });
    const [first] = await settled(cid, 1);
    expect(first).toMatchObject({ status: 'failed', attempt_count: 1 });
    const ch = (await api.call('GET', `/v1/notifications/${n.id}`)).body.channels[0];
    expect(ch.health.state).toBe('disabled');
    expect(ch.health.disabled_reason).toMatch(/410 Gone/);
    // While disabled, new events wait: nothing is sent, nothing is lost.
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'gone 2' } });
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(1);
    expect((await deliveriesOf(cid)).map((d) => d.status)).toEqual(['failed', 'pending']);
    gone = false;
    const enabled = await api.call('POST', `/v1/channels/${cid}/enable`);
    expect(enabled.body.health.state).toBe('healthy');
    await waitFor(async () => (await deliveriesOf(cid))[1].status === 'succeeded', 'the held delivery');
  });

  it('disables a channel after its configured failure streak', async () => {
    rx = await startReceiver((_r, _n, res) => res.writeHead(500).end());
    const n = await notify({ triggers: ['project.updated'] }, { disable_after_failures: 2 });
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'streak' } });
    await waitFor(async () => (await api.call('GET', `/v1/channels/${n.channels[0].id}`)).body.health.state === 'disabled', 'the channel to be disabled');
    const ch = (await api.call('GET', `/v1/channels/${n.channels[0].id}`)).body;
    expect(ch.health.disabled_reason).toMatch(/after 2 consecutive failed attempts/);
    expect(ch.health.failing_since).not.toBeNull();
    expect(rx.received).toHaveLength(2);
  });

  it('keeps at most max_in_flight requests in flight per channel, and a slow channel never delays another', async () => {
    // Its own API whose request timeout outlasts the test: with the file's 2 s timeout a
    // loaded machine let the hanging requests time out (hang.concurrent 0) and the fast ones
    // retry (10 requests for 8 events), so the test measured the machine, not the isolation.
    const own = await setupApi(kind, { worker: true, delivery: { timeoutMs: 60_000 } });
    const proj = (await own.call('POST', '/v1/projects', { body: { title: 'Isolation' } })).body;
    const make = async (url: string, extra: Record<string, unknown> = {}) =>
      (await own.call('POST', '/v1/notifications', { body: { title: 'n', triggers: ['project.updated'], scope: { projects: [proj.id] }, channels: [{ type: 'webhook', url, ...extra }] } })).body;
    const settledOn = (channelId: number, n: number) =>
      waitFor(async () => {
        const ds = (await own.call('GET', `/v1/deliveries?channel_id=${channelId}&limit=500`)).body.data as any[];
        return ds.length >= n && ds.every((d) => d.status === 'succeeded' || d.status === 'failed') ? ds : null;
      }, `${n} settled deliveries on channel ${channelId}`, 30_000);
    rx = await startReceiver(async (_r, n, res) => {
      await new Promise((r) => setTimeout(r, 150));
      ok(_r, n, res);
    });
    const fast = await startReceiver();
    const hang = await startReceiver(() => undefined);
    try {
      const capped = await make(`${rx.url}/hook`, { max_in_flight: 2 });
      const fastN = await make(`${fast.url}/fast`);
      await make(`${hang.url}/hang`);
      for (let i = 0; i < 8; i++) await own.call('PATCH', `/v1/projects/${proj.id}`, { body: { description: `burst ${i}` } });
      await settledOn(fastN.channels[0].id, 8);
      // The fast receiver got all 8 while the hanging one still holds its requests.
      expect(fast.received).toHaveLength(8);
      expect(hang.concurrent).toBeGreaterThan(0);
      await settledOn(capped.channels[0].id, 8);
      expect(rx.received).toHaveLength(8);
      expect(rx.maxConcurrent).toBe(2);
    } finally {
      await fast.close();
      await hang.close();
      await own.close();
    }
  });

  it('signs with both secrets for 24 hours after a rotation', async () => {
    rx = await startReceiver();
    const n = await notify({ triggers: ['project.updated'] }, { secret: true });
    const oldSecret = n.channels[0].secret;
    const rotated = await api.call('POST', `/v1/channels/${n.channels[0].id}/rotate-secret`);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(oldSecret);
    await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'rotated' } });
    const got = await waitFor(() => rx.received[0], 'the webhook');
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(rotated.body.secret).verify(got.body, got.headers as Record<string, string>)).toBeTruthy();
    expect(new Webhook(oldSecret).verify(got.body, got.headers as Record<string, string>)).toBeTruthy();
    // The secret is never shown again.
    expect((await api.call('GET', `/v1/channels/${n.channels[0].id}`)).body.secret).toBeUndefined();
  });

  it('sends a signed test ping through the queue', async () => {
    rx = await startReceiver();
    const n = await notify({ triggers: ['review.accepted'] }, { secret: true });
    const ping = await api.call('POST', `/v1/channels/${n.channels[0].id}/test`);
    expect(ping.status).toBe(202);
    expect(ping.body.event_type).toBe('ping');
    const got = await waitFor(() => rx.received[0], 'the ping');
    const payload = new Webhook(n.channels[0].secret).verify(got.body, got.headers as Record<string, string>) as any;
    expect(payload.type).toBe('ping');
    expect(payload.data.channel_id).toBe(n.channels[0].id);
    await waitFor(async () => (await api.call('GET', `/v1/deliveries/${ping.body.id}`)).body.status === 'succeeded', 'the ping delivery');
    // A ping has no stored event to render its body from again: the attempt keeps the body.
    const [a] = (await api.call('GET', `/v1/deliveries/${ping.body.id}`)).body.attempts;
    expect(a.request_body).toBe(got.body);
    expect((await api.store.db.selectFrom('attempts').select('request_body_from').where('id', '=', a.id).executeTakeFirstOrThrow()).request_body_from).toBeNull();
  });

  it('validates channels: reserved headers, header injection, URL shape, secret shape', async () => {
    const base = { title: 'bad', triggers: ['all'] };
    const bad = async (channel: Record<string, unknown>, re: RegExp) => {
      const res = await api.call('POST', '/v1/notifications', { body: { ...base, channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/x', ...channel }] } });
      expect(res.status, JSON.stringify(channel)).toBe(400);
      expect(res.body.message).toMatch(re);
    };
    const count = Number((await api.store.db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    await bad({ headers: { 'webhook-signature': 'x' } }, /set by Labelcast itself/);
    await bad({ headers: { 'Content-Type': 'text/plain' } }, /set by Labelcast itself/);
    await bad({ headers: { 'X-A': 'ok\r\nX-Injected: 1' } }, /line break/);
    await bad({ headers: { 'bad header': 'x' } }, /letters, digits/);
    await bad({ headers: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`h${i}`, 'v'])) }, /at most 10/);
    await bad({ url: 'ftp://example.com/x' }, /http or https/);
    await bad({ url: 'not a url' }, /not an absolute URL/);
    await bad({ url: 'https://user:pw@example.com/' }, /credentials/);
    await bad({ secret: 'plain-text' }, /whsec_/);
    const scope = await api.call('POST', '/v1/notifications', { body: { ...base, scope: { projects: [987654] } } });
    expect(scope.status).toBe(404);
    const trig = await api.call('POST', '/v1/notifications', { body: { ...base, triggers: ['task.exploded'] } });
    expect(trig.status).toBe(400);
    // Nothing half-written: the notification row of a refused channel is rolled back too.
    expect(Number((await api.store.db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)).toBe(count);
  });

  it('lists, searches, updates and deletes notifications; deleting cancels pending work', async () => {
    const a = (await api.call('POST', '/v1/notifications', { body: { title: 'Reviewer alerts', triggers: ['task.submitted'] } })).body;
    await api.call('POST', '/v1/notifications', { body: { title: 'Daily digest for managers', triggers: ['all'] } });
    const found = (await api.call('GET', '/v1/notifications?search=REVIEWER')).body.data;
    expect(found.map((x: any) => x.id)).toEqual([a.id]);
    const ch = (await api.call('POST', `/v1/notifications/${a.id}/channels`, { body: { type: 'webhook', url: 'http://127.0.0.1:9/never', active: false } })).body;
    expect(ch.active).toBe(false);
    const patched = await api.call('PATCH', `/v1/channels/${ch.id}`, { body: { url: 'http://127.0.0.1:9/other', headers: { 'X-K': 'v' } } });
    expect(patched.body).toMatchObject({ url: 'http://127.0.0.1:9/other', headers: { 'X-K': 'v' }, active: false });
    expect((await api.call('DELETE', `/v1/notifications/${a.id}`)).status).toBe(204);
    expect((await api.call('GET', `/v1/notifications/${a.id}`)).status).toBe(404);
    expect((await api.call('GET', `/v1/channels/${ch.id}`)).status).toBe(404);
  });

  it('exposes Prometheus metrics and readiness', async () => {
    const m = await api.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.body).toMatch(/labelcast_attempts_total\{outcome="success"/);
    expect(m.body).toMatch(/labelcast_attempt_duration_seconds_bucket/);
    expect(m.body).toMatch(/labelcast_due_backlog \d+/);
    expect(m.body).toMatch(/labelcast_disabled_channels \d+/);
    expect(m.body).toMatch(/labelcast_deliveries_total\{outcome="succeeded"\}/);
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
  });
});
