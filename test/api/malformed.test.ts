// Issue 10 defects 2 and 3: malformed input gets a documented 4xx in our {code, message,
// status} shape, never a 500 and never Fastify's default error form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

const nested = (levels: number, leaf = '1') => '['.repeat(levels) + leaf + ']'.repeat(levels);

describe.each(KINDS)('malformed input on %s', (kind) => {
  let api: TestApi;
  let project: any;
  let task: any;
  const taskCount = async () => Number((await api.store.db.selectFrom('tasks').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    api = await setupApi(kind, { bodyLimit: 1024 * 1024, messaging: { slackClientId: 'cid', slackClientSecret: 'csecret' } });
    project = (await api.call('POST', '/v1/projects', { body: { title: 'P' } })).body;
    task = (await api.call('POST', `/v1/projects/${project.id}/tasks`, { body: { tasks: [{ data: { x: 1 } }] } })).body.tasks[0];
  });
  afterAll(async () => api?.close());

  it('refuses 100,000 levels of nesting in task data with json_too_deep, writing nothing', async () => {
    const before = await taskCount();
    const raw = `{"tasks":[{"data":{"x":${nested(100_000)}}}]}`;
    const r = await api.call('POST', `/v1/projects/${project.id}/tasks`, { raw, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'json_too_deep', status: 400 });
    expect(await taskCount()).toBe(before);
  });

  it("refuses 100,000 levels of nesting in a label's result", async () => {
    const raw = `{"result":${nested(100_000, '{}')}}`;
    const r = await api.call('POST', `/v1/tasks/${task.id}/labels`, { raw, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('json_too_deep');
  });

  it('accepts nesting up to the documented 64 levels', async () => {
    const raw = `{"tasks":[{"data":{"x":${nested(60)}}}]}`;
    const r = await api.call('POST', `/v1/projects/${project.id}/tasks`, { raw, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(201);
  });

  it('does not count brackets inside strings', async () => {
    const r = await api.call('POST', `/v1/projects/${project.id}/tasks`, { body: { tasks: [{ data: { text: '['.repeat(1000) + '\\"{' } }] } });
    expect(r.status).toBe(201);
  });

  it('refuses a null or missing channel and channels: [null] with validation_failed', async () => {
    const n = await api.call('POST', '/v1/notifications', { body: { title: 'N', triggers: ['all'] } });
    expect(n.status).toBe(201);
    const nul = await api.call('POST', `/v1/notifications/${n.body.id}/channels`, { raw: 'null', headers: { 'content-type': 'application/json' } });
    expect([nul.status, nul.body.code]).toEqual([400, 'validation_failed']);
    const missing = await api.call('POST', `/v1/notifications/${n.body.id}/channels`);
    expect([missing.status, missing.body.code]).toEqual([400, 'validation_failed']);
    const inList = await api.call('POST', '/v1/notifications', { body: { title: 'N', triggers: ['all'], channels: [null] } });
    expect([inList.status, inList.body.code]).toEqual([400, 'validation_failed']);
  });

  it('refuses a leap-second time, which Date cannot represent', async () => {
    const n = await api.call('POST', '/v1/notifications', { body: { title: 'N', triggers: ['all'], channels: [{ type: 'email', recipients: ['a@b.co'] }] } });
    const r = await api.call('POST', `/v1/channels/${n.body.channels[0].id}/recover`, { body: { since: '2016-12-31T23:59:60Z' } });
    expect([r.status, r.body.code]).toEqual([400, 'validation_failed']);
    expect(r.body.message).toMatch(/body\.since/);
    const ok = await api.call('POST', `/v1/channels/${n.body.channels[0].id}/recover`, { body: { since: '2016-12-31T23:59:59Z' } });
    expect(ok.status).toBe(200);
  });

  it('refuses a Slack OAuth state whose MAC has multibyte characters with a 400', async () => {
    const install = await api.call('GET', '/v1/slack/install');
    expect(install.status).toBe(200);
    const state = new URL(install.body.url).searchParams.get('state')!;
    const [body, mac] = state.split('.');
    // Same length in characters as the real MAC, longer in bytes.
    const forged = `${body}.${'é'.repeat(mac!.length)}`;
    const r = await api.app.inject({ method: 'GET', url: `/v1/slack/oauth/callback?code=c&state=${encodeURIComponent(forged)}` });
    expect(r.statusCode).toBe(400);
  });

  it('refuses NUL characters in bodies and URLs, which PostgreSQL cannot store', async () => {
    const body = await api.call('POST', '/v1/projects', { body: { title: 'a\u0000b' } });
    expect([body.status, body.body.code]).toEqual([400, 'validation_failed']);
    const url = await api.call('GET', '/v1/projects?cursor=%00');
    expect([url.status, url.body.code]).toEqual([400, 'validation_failed']);
  });

  it("refuses deleting a Label Studio webhook's channel alone, which left GET /v1/webhooks failing", async () => {
    const w = await api.call('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook' } });
    expect(w.status).toBe(201);
    const n = await api.call('GET', `/v1/notifications/${w.body.id}`);
    const channelId = n.body.channels?.[0]?.id;
    expect(channelId).toBeDefined();
    const del = await api.call('DELETE', `/v1/channels/${channelId}`);
    expect([del.status, del.body.code]).toEqual([409, 'invalid_state']);
    expect((await api.call('GET', '/v1/webhooks')).status).toBe(200);
  });

  it('answers a bad percent-escape in the path in our shape', async () => {
    const r = await api.call('GET', '/v1/projects/%zz');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ code: 'bad_request', status: 400, message: expect.stringMatching(/percent-escape/) });
  });

  it('answers an over-long path parameter in our shape', async () => {
    const r = await api.call('GET', `/v1/projects/${'9'.repeat(500)}`);
    expect(r.status).toBe(414);
    expect(r.body).toEqual({ code: 'uri_too_long', status: 414, message: expect.any(String) });
  });
});
