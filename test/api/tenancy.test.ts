// A key of one organization can never read or change another's data: every route of the
// OpenAPI document is called with organization B's key on organization A's resources.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

// A valid body for every route that takes one, so the call reaches the handler rather than
// stopping at validation. A new route must be added here (the coverage check below fails).
const BODIES: Record<string, unknown> = {
  'POST /v1/projects': { title: 'B project' },
  'PATCH /v1/projects/{id}': { title: 'stolen' },
  'PUT /v1/projects/{id}/workflow': { stages: [{ kind: 'annotate' }, { kind: 'complete' }] },
  'POST /v1/projects/{id}/tasks': { tasks: [{ data: { x: 1 } }] },
  'POST /v1/tasks/{id}/submit': {},
  'POST /v1/tasks/{id}/labels': { result: [] },
  'PATCH /v1/labels/{id}': { result: [] },
  'POST /v1/labels/{id}/review': { decision: 'accept' },
  'POST /v1/users': { email: 'new@b.test', name: 'New', role: 'annotator' },
  'PATCH /v1/users/{id}': { name: 'stolen' },
  'POST /v1/api-keys': { name: 'k' },
  'POST /v1/notifications': { title: 'B', triggers: ['all'] },
  'PATCH /v1/notifications/{id}': { title: 'stolen' },
  'POST /v1/notifications/{id}/channels': { type: 'webhook', url: 'http://127.0.0.1:9/x' },
  'PATCH /v1/channels/{id}': { url: 'http://127.0.0.1:9/stolen' },
  'POST /v1/channels/{id}/enable': undefined,
  'POST /v1/channels/{id}/rotate-secret': undefined,
  'POST /v1/channels/{id}/test': undefined,
  'POST /v1/channels/{id}/recover': { since: '2020-01-01T00:00:00Z' },
  'POST /v1/deliveries/{id}/resend': undefined,
  'POST /v1/webhooks': { url: 'http://127.0.0.1:9/b' },
  'PATCH /v1/webhooks/{id}': { url: 'http://127.0.0.1:9/stolen' },
  'POST /v1/pipelines': { name: 'b', trigger: { event: 'task.created' }, action: { type: 'send_webhook', request_url: 'http://127.0.0.1:9/b' } },
  'POST /v1/slack/channels/refresh': undefined,
  'PATCH /v1/tasks/{id}': { assignee: null },
  'PATCH /v1/pipelines/{id}': { name: 'stolen' },
  'POST /v1/pipelines/{id}/run': { from: 'x' },
  'POST /v1/pipelines/{id}/actions': { type: 'send_webhook', request_url: 'http://127.0.0.1:9/b' },
  'PATCH /v1/actions/{id}': { is_active: false },
  'POST /v1/actions/{id}/runs/{run_id}/rerun': undefined,
  'POST /v1/secrets': { name: 'b', values: { K: 'v' } },
  'PUT /v1/secrets/{id}': { values: { K: 'stolen' } },
  'POST /v1/hooks/{id}': { any: 'body' },
};

describe.each(KINDS)('organization isolation on %s', (kind) => {
  let api: TestApi;
  let ids: Record<string, number | string>;
  let routes: { method: string; path: string }[];

  beforeAll(async () => {
    api = await setupApi(kind);
    const { call } = api;
    const notification = (await call('POST', '/v1/notifications', { body: { title: 'A hook', triggers: ['all'], channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: true }] } })).body;
    const project = (await call('POST', '/v1/projects', { body: { title: 'A secret' } })).body;
    const [task, task2] = (await call('POST', `/v1/projects/${project.id}/tasks`, { body: { tasks: [{ data: { x: 1 } }, { data: { x: 2 } }] } })).body.tasks;
    const label = (await call('POST', `/v1/tasks/${task.id}/labels`, { body: { result: [{ a: 1 }] } })).body;
    await call('POST', `/v1/tasks/${task.id}/submit`);
    await call('POST', `/v1/tasks/${task2.id}/labels`, { body: { result: [{ a: 2 }] } });
    const user = (await call('POST', '/v1/users', { body: { email: 'ann@a.test', name: 'Ann', role: 'annotator' } })).body;
    const key = (await call('POST', '/v1/api-keys', { body: { name: 'a key' } })).body;
    const event = (await call('GET', '/v1/events?limit=1')).body.data[0];
    const delivery = (await call('GET', '/v1/deliveries?limit=1')).body.data[0];
    const lsHook = (await call('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/ls' } })).body;
    const pipeline = (await call('POST', '/v1/pipelines', { body: { name: 'p', trigger: { event: 'task.created' }, action: { type: 'send_webhook', request_url: 'http://127.0.0.1:9/sa' } } })).body;
    const secret = (await call('POST', '/v1/secrets', { body: { name: 'a-secret', values: { TOKEN: 'a-value' } } })).body;
    const action = (await call('POST', '/v1/pipelines', { body: { name: 'c', trigger: { event: 'manual' }, action: { type: 'custom_action', language: 'javascript', code: 'function handler() {}', secret: 'a-secret' } } })).body.action;
    const run = (await call('POST', `/v1/pipelines/${action.pipeline}/run`, { body: {} })).body.deliveries[0];
    // Rows only a worker or Slack would make, written directly for organization A.
    const now = Date.now();
    const outbox = await api.store.db.insertInto('outbox').values({ org_id: api.a.id, delivery_id: delivery.id, recipients: '["a@a.test"]', subject: 's', text: 't', html: 'h', created_at: now }).returning('id').executeTakeFirstOrThrow();
    const slack = await api.store.db.insertInto('slack_connections').values({ org_id: api.a.id, user_id: api.a.adminId, team_id: 'T1', team_name: 'A team', bot_token: 'xoxb-a', bot_user_id: null, scope: 'chat:write', created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
    ids = { outbox: outbox.id, slack: slack.id, project: project.id, task: task.id, label: label.id, user: user.id, key: key.id, event: event.id, notification: notification.id, channel: notification.channels[0].id, delivery: delivery.id, webhook: lsHook.id, pipeline: pipeline.id, action: action.id, run, secret: secret.id };
    const doc = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path })),
    );
  });
  afterAll(async () => api?.close());

  function resourceFor(path: string): string {
    if (path.startsWith('/v1/projects/{id}')) return 'project';
    if (path.startsWith('/v1/tasks/{id}')) return 'task';
    if (path.startsWith('/v1/labels/{id}')) return 'label';
    if (path.startsWith('/v1/users/{id}')) return 'user';
    if (path.startsWith('/v1/api-keys/{id}')) return 'key';
    if (path.startsWith('/v1/events/{id}')) return 'event';
    if (path.startsWith('/v1/notifications/{id}')) return 'notification';
    if (path.startsWith('/v1/channels/{id}')) return 'channel';
    if (path.startsWith('/v1/deliveries/{id}')) return 'delivery';
    if (path.startsWith('/v1/webhooks/{id}')) return 'webhook';
    if (path.startsWith('/v1/pipelines/{id}')) return 'pipeline';
    if (path.startsWith('/v1/actions/{id}')) return 'action';
    if (path.startsWith('/v1/secrets/{id}')) return 'secret';
    if (path.startsWith('/v1/outbox/{id}')) return 'outbox';
    if (path.startsWith('/v1/slack/connections/{id}')) return 'slack';
    throw new Error(`no resource known for ${path}; extend the tenancy test`);
  }

  it('every route is covered', () => {
    expect(routes.length).toBeGreaterThan(20);
    for (const r of routes) {
      if (r.method === 'POST' || r.method === 'PATCH' || r.method === 'PUT') {
        expect(Object.keys(BODIES), `${r.method} ${r.path}`).toContain(`${r.method} ${r.path}`);
      }
    }
  });

  it("answers 404 on every route that names another organization's resource, and changes nothing", async () => {
    const before = await api.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const checked: string[] = [];
    // The incoming webhook is not API-key authenticated: another organization's key is no
    // credential there, and a missing token answers 401 whatever the pipeline.
    const hook = await api.call('POST', `/v1/hooks/${ids.pipeline}`, { key: api.b.key, body: { any: 'body' } });
    expect(hook.status).toBe(401);
    expect(hook.body.code).toBe('hook_unauthorized');
    for (const r of routes.filter((r) => r.path.includes('{id}') && !r.path.startsWith('/v1/hooks/'))) {
      const url = r.path.replace('{id}', String(ids[resourceFor(r.path)])).replace('{run_id}', String(ids.run));
      const body = BODIES[`${r.method} ${r.path}`];
      const res = await api.call(r.method, url, { key: api.b.key, ...(body !== undefined ? { body } : {}) });
      expect(res.status, `${r.method} ${url}`).toBe(404);
      expect(res.body.code).toBe('not_found');
      checked.push(`${r.method} ${r.path}`);
    }
    expect(checked.length).toBeGreaterThan(15);
    const after = await api.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    // A's data is intact.
    const project = await api.call('GET', `/v1/projects/${ids.project}`);
    expect(project.body.title).toBe('A secret');
  });

  it("lists show only the caller's organization", async () => {
    for (const r of routes.filter((r) => r.method === 'GET' && !r.path.includes('{id}') && r.path.startsWith('/v1/'))) {
      const res = await api.call('GET', r.path, { key: api.b.key });
      if (r.path === '/v1/slack/install') {
        // Not a list: without a Slack app configured it says so.
        expect(res.body.code).toBe('slack_not_configured');
        continue;
      }
      expect(res.status, r.path).toBe(200);
      const rows: any[] = Array.isArray(res.body.data) ? res.body.data : [res.body];
      for (const row of rows) {
        const org = row.organization ?? row.org_id;
        if (org !== undefined) expect(org, r.path).toBe(api.b.id);
      }
      if (['/v1/projects', '/v1/events', '/v1/notifications', '/v1/deliveries', '/v1/webhooks', '/v1/pipelines', '/v1/outbox', '/v1/slack/channels', '/v1/secrets'].includes(r.path)) expect(rows).toEqual([]);
    }
  });
});
