// Slack: the "Add Slack channel" OAuth v2 flow, channels listed and refreshed, messages by
// bot token (chat.postMessage) and by incoming webhook, in Block Kit with a text fallback,
// paced to about one per second per channel, and 429 Retry-After honoured; against a local
// fake of the Slack API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { waitFor } from '../helpers/receiver.js';
import { BOT_TOKEN, CLIENT_ID, CLIENT_SECRET, startFakeSlack, type FakeSlack } from '../helpers/fake-slack.js';

describe.each(KINDS)('Slack on %s', (kind) => {
  let api: TestApi;
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
    api = await setupApi(kind, {
      worker: true,
      messaging: { slackApiUrl: slack.apiUrl, slackAuthorizeUrl: `${slack.url}/oauth/v2/authorize`, slackClientId: CLIENT_ID, slackClientSecret: CLIENT_SECRET },
    });
  });
  afterAll(async () => {
    await api?.close();
    await slack?.close();
  });

  async function submitTasks(n: number) {
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'Slack project' } })).body;
    const tasks = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: Array.from({ length: n }, (_, i) => ({ data: { i } })) } })).body.tasks;
    for (const t of tasks) {
      await api.call('POST', `/v1/tasks/${t.id}/labels`, { body: { result: [] } });
      await api.call('POST', `/v1/tasks/${t.id}/submit`);
    }
    return { p, tasks };
  }

  it('connects a workspace through OAuth v2 and lists and refreshes its channels', async () => {
    const install = await api.call('GET', '/v1/slack/install');
    expect(install.status).toBe(200);
    const url = new URL(install.body.url);
    expect(url.origin + url.pathname).toBe(`${slack.url}/oauth/v2/authorize`);
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(url.searchParams.get('redirect_uri')).toBe('http://labelcast.test/v1/slack/oauth/callback');
    const state = url.searchParams.get('state')!;

    const forged = await api.app.inject({ method: 'GET', url: `/v1/slack/oauth/callback?code=good-code&state=${state.slice(0, -2)}xx` });
    expect(forged.statusCode).toBe(400);
    const wrongCode = await api.app.inject({ method: 'GET', url: `/v1/slack/oauth/callback?code=bad&state=${encodeURIComponent(state)}` });
    expect(wrongCode.statusCode).toBe(502);
    // Slack redirects the browser back with a code: no API key on this request.
    const back = await api.app.inject({ method: 'GET', url: `/v1/slack/oauth/callback?code=good-code&state=${encodeURIComponent(state)}` });
    expect(back.statusCode).toBe(200);
    expect(back.body).toContain('Vision Lab');
    const exchange = slack.calls.find((c) => c.method === 'oauth.v2.access' && c.body.code === 'good-code')!;
    expect(exchange.body).toMatchObject({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: 'http://labelcast.test/v1/slack/oauth/callback' });

    const channels = (await api.call('GET', '/v1/slack/channels')).body.data;
    expect(channels.map((c: any) => [c.channel, c.name, c.team])).toEqual([
      ['G0MGMT', 'managers', 'Vision Lab'],
      ['C0REVIEW', 'reviewers', 'Vision Lab'],
    ]);
    slack.channels.push({ id: 'C0NEW', name: 'annotators', is_private: false });
    expect((await api.call('POST', '/v1/slack/channels/refresh')).body.channels).toBe(3);
    expect((await api.call('GET', '/v1/slack/channels')).body.data).toHaveLength(3);
  });

  it('posts Block Kit messages with a text fallback by bot token and by incoming webhook', async () => {
    const n = await api.call('POST', '/v1/notifications', {
      body: {
        title: 'Reviewers on Slack',
        triggers: ['task.submitted'],
        channels: [
          { type: 'slack', channel: 'C0REVIEW' },
          { type: 'slack', webhook_url: `${slack.url}/services/T0/B0/secret` },
        ],
      },
    });
    expect(n.status).toBe(201);
    expect(n.body.channels[0].slack).toEqual({ via: 'bot', channel: 'C0REVIEW', channel_name: 'reviewers', team: 'Vision Lab' });
    expect(n.body.channels[1].slack.via).toBe('webhook');
    expect(JSON.stringify(n.body)).not.toContain('/services/T0/B0/secret');
    const { p, tasks } = await submitTasks(1);
    const [bot] = await waitFor(() => (slack.posts().filter((c) => c.method === 'chat.postMessage').length ? slack.posts().filter((c) => c.method === 'chat.postMessage') : null), 'chat.postMessage');
    expect(bot!.auth).toBe(`Bearer ${BOT_TOKEN}`);
    expect(bot!.body.channel).toBe('C0REVIEW');
    expect(bot!.body.text).toBe(`Task ${tasks[0].id} was submitted for review in "Slack project" by admin@a.test`);
    expect(bot!.body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: bot!.body.text } });
    expect(JSON.stringify(bot!.body.blocks[1])).toContain(`http://labelcast.test/projects/${p.id}`);
    const hook = await waitFor(() => slack.posts().find((c) => c.method === 'incoming-webhook'), 'the incoming webhook');
    expect(hook.body.text).toBe(bot!.body.text);
    expect(hook.auth).toBeUndefined();
    const attempts = (await api.call('GET', `/v1/deliveries?channel_id=${n.body.channels[1].id}`)).body.data;
    await waitFor(async () => (await api.call('GET', `/v1/deliveries/${attempts[0].id}`)).body.attempts.length > 0, 'the attempt');
    const a = (await api.call('GET', `/v1/deliveries/${attempts[0].id}`)).body.attempts[0];
    expect(a.url).toBe('slack:incoming-webhook');

    // Someone who did not connect that workspace cannot post to its channels.
    const u = (await api.call('POST', '/v1/users', { body: { email: 'other@a.test', name: 'O', role: 'reviewer' } })).body;
    const key = (await api.call('POST', '/v1/api-keys', { body: { name: 'o', user_id: u.id } })).body.key;
    const denied = await api.call('POST', '/v1/notifications', { key, body: { title: 'x', triggers: ['task.submitted'], channels: [{ type: 'slack', channel: 'C0REVIEW' }] } });
    expect(denied.status).toBe(400);
    expect(denied.body.message).toMatch(/not among your connected channels/);
    await api.call('PATCH', `/v1/notifications/${n.body.id}`, { body: { active: false } });
  });

  it('paces a channel to about one message per second and honours 429 Retry-After', async () => {
    const n = (await api.call('POST', '/v1/notifications', { body: { title: 'Paced', triggers: ['task.submitted'], channels: [{ type: 'slack', channel: 'C0NEW' }] } })).body;
    slack.rateLimitNext(1, 1);
    const before = slack.posts().filter((c) => c.body.channel === 'C0NEW').length;
    await submitTasks(3);
    const posts = await waitFor(() => {
      const ok = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0NEW');
      return ok.length >= before + 4 ? ok : null;
    }, 'three messages and one rate-limited try', 20_000);
    const times = posts.map((c) => c.at);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(900);
    const ds = await waitFor(async () => {
      const list = (await api.call('GET', `/v1/deliveries?channel_id=${n.channels[0].id}`)).body.data;
      return list.length === 3 && list.every((d: any) => d.status === 'succeeded') ? list : null;
    }, 'three succeeded deliveries', 20_000);
    expect(ds.map((d: any) => d.attempt_count).sort()).toEqual([1, 1, 2]);
  });

  it('holds every message to a Slack channel until its Retry-After, not only the one that got 429', { timeout: 30_000 }, async () => {
    slack.channels.push({ id: 'C0HOT', name: 'hot', is_private: false });
    await api.call('POST', '/v1/slack/channels/refresh');
    // Two notifications posting to the same Slack channel share its rate limit.
    const n1 = (await api.call('POST', '/v1/notifications', { body: { title: 'Hot 1', triggers: ['task.submitted'], channels: [{ type: 'slack', channel: 'C0HOT' }] } })).body;
    const n2 = (await api.call('POST', '/v1/notifications', { body: { title: 'Hot 2', triggers: ['task.submitted'], channels: [{ type: 'slack', channel: 'C0HOT' }] } })).body;
    expect(n1.channels[0].id).not.toBe(n2.channels[0].id);
    slack.rateLimitChannel('C0HOT', 3);
    await submitTasks(2);
    const ids = [n1.channels[0].id, n2.channels[0].id];
    const ds = await waitFor(async () => {
      const list = [...(await api.call('GET', `/v1/deliveries?channel_id=${ids[0]}`)).body.data, ...(await api.call('GET', `/v1/deliveries?channel_id=${ids[1]}`)).body.data];
      return list.length === 4 && list.every((d: any) => d.status === 'succeeded') ? list : null;
    }, 'four messages delivered after the wait', 25_000);
    const hot = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.body.channel === 'C0HOT');
    // The first posts (the two channels may post at the same moment) get 429; after that
    // nothing is posted there until Retry-After has passed, whichever message is next.
    const limitedAt = hot[0]!.at;
    const burst = hot.filter((c) => c.at < limitedAt + 500);
    const later = hot.filter((c) => c.at >= limitedAt + 500);
    expect(later.every((c) => c.at >= limitedAt + 2900), JSON.stringify(hot.map((c) => c.at - limitedAt))).toBe(true);
    expect(hot).toHaveLength(4 + burst.length);
    expect(ds.reduce((sum: number, d: any) => sum + d.attempt_count, 0)).toBe(4 + burst.length);
  });

  // Incoming-webhook URLs are sealed at rest with a random IV (issue 10 defect 4), so two
  // channels posting to one URL differ in the database: a 429 on one must still hold the other.
  it('holds every message to one incoming-webhook URL until its Retry-After, across channels', { timeout: 30_000 }, async () => {
    const hook = '/services/T0/B0/shared-hot';
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'Hook project' } })).body;
    const n1 = (await api.call('POST', '/v1/notifications', { body: { title: 'Hook 1', scope: { projects: [p.id] }, triggers: ['task.submitted'], channels: [{ type: 'slack', webhook_url: `${slack.url}${hook}` }] } })).body;
    const n2 = (await api.call('POST', '/v1/notifications', { body: { title: 'Hook 2', scope: { projects: [p.id] }, triggers: ['project.updated'], channels: [{ type: 'slack', webhook_url: `${slack.url}${hook}` }] } })).body;
    const stored = await api.store.db.selectFrom('channels').select('config').where('id', 'in', [n1.channels[0].id, n2.channels[0].id]).execute();
    expect(stored[0]!.config).not.toBe(stored[1]!.config);
    expect(stored.map((s) => s.config).join()).not.toContain('shared-hot');
    slack.rateLimitChannel(hook, 3);
    // Channel 1 posts and gets 429 Retry-After: 3 ...
    const t = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: [{ data: {} }] } })).body.tasks[0];
    await api.call('POST', `/v1/tasks/${t.id}/labels`, { body: { result: [] } });
    await api.call('POST', `/v1/tasks/${t.id}/submit`);
    await waitFor(async () => (await api.call('GET', `/v1/deliveries?channel_id=${n1.channels[0].id}`)).body.data[0]?.attempt_count === 1, 'the rate-limited attempt');
    // ... then channel 2, to the same URL, has a message: it waits for the same Retry-After.
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { title: 'Renamed' } });
    for (const id of [n1.channels[0].id, n2.channels[0].id]) {
      await waitFor(async () => (await api.call('GET', `/v1/deliveries?channel_id=${id}`)).body.data[0]?.status === 'succeeded', `channel ${id} delivered`, 25_000);
    }
    const hot = slack.calls.filter((c) => c.method === 'incoming-webhook' && c.body.path === hook);
    const limitedAt = hot[0]!.at;
    expect(hot).toHaveLength(3);
    expect(hot.slice(1).every((c) => c.at >= limitedAt + 2900), JSON.stringify(hot.map((c) => c.at - limitedAt))).toBe(true);
  });
});
