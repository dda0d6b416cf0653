// SuperAnnotate pipelines in full (issue 13, seed 004): every trigger kind through the API,
// Send webhook to a real HTTP receiver, Send email to a real SMTP server, custom actions
// through the ActionRunner seam, on SQLite and PostgreSQL.
//
// TEST-ONLY RUNNER: custom actions here run in `vmRunner` below, node:vm in this process.
// node:vm is NOT a sandbox; it stands in for the real one (src/transports/sandbox/, built
// separately) so that the data side (input, output, logs, statuses, reruns) is tested with
// real code running. Production wires the sandbox's runner in src/server.ts.
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { startSmtp, type Smtp } from '../helpers/smtp.js';
import type { ActionRunner } from '../../src/model/action-run.js';
import { pipelineEmail } from '../../src/delivery/pipeline-email.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { expireActionRuns } from '../../src/schedule/action-ttl.js';
import { hmacHex } from '../../src/dialects/superannotate.js';

const vmRunner: ActionRunner = {
  async run(input) {
    const started = performance.now();
    const lines: string[] = [];
    const log = (...a: unknown[]) => lines.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
    const sandbox = { console: { log, error: log }, secrets: { ...input.secrets } } as Record<string, unknown>;
    try {
      vm.runInNewContext(`${input.code}\n;globalThis.__h = handler;`, sandbox, { timeout: 1000 });
      const output = await (sandbox.__h as (e: unknown, c: unknown) => unknown)(input.event, input.context);
      return { ok: true, output, error: null, logs: lines.join('\n'), duration_ms: performance.now() - started };
    } catch (err) {
      const e = err as Error;
      return { ok: false, output: null, error: { message: e.message, traceback: e.stack ?? '' }, logs: lines.join('\n'), duration_ms: performance.now() - started };
    }
  },
};

describe.each(KINDS)('pipelines on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  let smtp: Smtp;
  beforeAll(async () => {
    rx = await startReceiver();
    smtp = await startSmtp();
    api = await setupApi(kind, { worker: true, actionRunner: vmRunner, messaging: { smtpUrl: smtp.url, emailFrom: 'Labelcast <noreply@labelcast.test>' } });
  });
  afterAll(async () => {
    await api?.close();
    await rx?.close();
    await smtp?.close();
  });

  const at = (path: string) => rx.received.filter((r) => r.path === path);
  const pipeline = async (body: Record<string, unknown>) => {
    const res = await api.call('POST', '/v1/pipelines', { body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };

  it('the email body is exactly seed 004 form', () => {
    const mail = pipelineEmail({ event: 'Project status updated', from: 'NotStarted', to: 'InProgress', team: 'MyTeam', project: 'MyProject', folder: 'MyFolder' });
    // Copied from the seed.
    expect(mail.text).toBe('Event - "Project status updated"\nFrom Value - "NotStarted"\nTo Value - "InProgress"\nTriggered by - "MyTeam/MyProject/MyFolder"\n');
    expect(pipelineEmail({ event: 'Project created', from: null, to: null, team: 'T', project: 'P' }).text).toBe('Event - "Project created"\nFrom Value - ""\nTo Value - ""\nTriggered by - "T/P"\n');
  });

  it('Send email: project status with from/to, to members only, in the seed form over SMTP', async () => {
    const outsider = await api.call('POST', '/v1/pipelines', { body: { name: 'x', trigger: { event: 'project.status_changed' }, action: { type: 'send_email', recipients: ['stranger@elsewhere.test'] } } });
    expect(outsider.status).toBe(400);
    expect(outsider.body.code).toBe('recipient_not_member');
    for (const trigger of [{ event: 'incoming_webhook' }, { event: 'periodic', cron: '0 * * * *' }, { event: 'task.submitted' }, { event: 'task.annotation_status_changed', to: ['Completed'] }, { event: 'task.assigned' }]) {
      const refused = await api.call('POST', '/v1/pipelines', { body: { name: 'x', trigger, action: { type: 'send_email', recipients: ['admin@a.test'] } } });
      expect(refused.status, JSON.stringify(trigger)).toBe(400);
      expect(refused.body.code).toBe('email_trigger_not_allowed');
    }
    expect(await api.store.db.selectFrom('notifications').select('id').where('title', '=', 'x').execute()).toEqual([]);

    await api.call('POST', '/v1/users', { body: { email: 'lead@a.test', name: 'Lead', role: 'manager' } });
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'MyProject' } })).body;
    const pl = await pipeline({ name: 'Started', project: p.id, trigger: { event: 'project.status_changed', from: ['NotStarted'], to: ['InProgress'] }, action: { type: 'send_email', recipients: ['Lead@a.test'] } });
    expect(pl.action).toMatchObject({ type: 'send_email', recipients: ['lead@a.test'] });
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { status: 'OnHold' } }); // filtered out: from NotStarted only... and to InProgress only
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { status: 'NotStarted' } });
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { status: 'InProgress' } });
    const mail = await waitFor(() => smtp.mails.find((m) => m.envelopeTo.includes('lead@a.test')), 'the email');
    expect(mail.text).toBe('Event - "Project status updated"\nFrom Value - "NotStarted"\nTo Value - "InProgress"\nTriggered by - "Org A/MyProject"\n');
    expect(mail.html).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.mails.filter((m) => m.envelopeTo.includes('lead@a.test'))).toHaveLength(1);
  });

  it('annotation status, assignment, item created and deleted reach Send webhook as seed 004 items', async () => {
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'Items' } })).body;
    const ann = (await api.call('POST', '/v1/users', { body: { email: 'ann@a.test', name: 'Ann', role: 'annotator' } })).body;
    await pipeline({ name: 'qc', project: p.id, trigger: { event: 'task.annotation_status_changed', from: ['InProgress'], to: ['QualityCheck'] }, action: { type: 'send_webhook', request_url: `${rx.url}/qc`, secret: 'hmac-secret' } });
    await pipeline({ name: 'returned', project: p.id, trigger: { event: 'task.annotation_status_changed', to: ['Returned'] }, action: { type: 'send_webhook', request_url: `${rx.url}/returned` } });
    await pipeline({ name: 'done', project: p.id, trigger: { event: 'task.annotation_status_changed', to: ['Completed'] }, action: { type: 'send_webhook', request_url: `${rx.url}/done` } });
    await pipeline({ name: 'assigned', project: p.id, trigger: { event: 'task.assigned' }, actions: [{ type: 'send_webhook', request_url: `${rx.url}/assigned` }] });
    await pipeline({ name: 'created', project: p.id, trigger: { event: 'task.created' }, action: { type: 'send_webhook', request_url: `${rx.url}/created` } });
    await pipeline({ name: 'deleted', project: p.id, trigger: { event: 'task.deleted' }, action: { type: 'send_webhook', request_url: `${rx.url}/deleted` } });
    const bad = await api.call('POST', '/v1/pipelines', { body: { name: 'x', trigger: { event: 'task.created', from: ['New'] }, action: { type: 'send_webhook', request_url: `${rx.url}/x` } } });
    expect(bad.status).toBe(400);

    const [t1, t2] = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: [{ data: { image: 's3://b/1.jpg' } }, { data: { image: 's3://b/2.jpg' } }] } })).body.tasks;
    const assigned = await api.call('PATCH', `/v1/tasks/${t1.id}`, { body: { assignee: ann.id } });
    expect(assigned.status).toBe(200);
    expect(assigned.body.assignee).toBe(ann.id);
    // Unchanged: no event.
    await api.call('PATCH', `/v1/tasks/${t1.id}`, { body: { assignee: ann.id } });
    const label = (await api.call('POST', `/v1/tasks/${t1.id}/labels`, { body: { result: [{ a: 1 }] } })).body;
    await api.call('POST', `/v1/tasks/${t1.id}/submit`);
    await api.call('POST', `/v1/labels/${label.id}/review`, { body: { decision: 'reject' } });
    await api.call('POST', `/v1/tasks/${t1.id}/submit`);
    const l2 = (await api.call('GET', `/v1/tasks/${t1.id}/labels`)).body.data[0];
    await api.call('POST', `/v1/labels/${l2.id}/review`, { body: { decision: 'accept' } });
    await api.call('DELETE', `/v1/tasks/${t2.id}`);

    await waitFor(() => at('/qc').length >= 2 && at('/returned').length >= 1 && at('/done').length >= 1 && at('/assigned').length >= 1 && at('/created').length >= 2 && at('/deleted').length >= 1, 'all webhooks');
    await new Promise((r) => setTimeout(r, 300));
    expect(at('/qc')).toHaveLength(2); // submitted twice: InProgress -> QualityCheck
    const qc = at('/qc')[0]!;
    expect(qc.headers['x-event']).toBe('item u');
    expect(qc.headers['x-authorization-content-sha256']).toBe(hmacHex('hmac-secret', qc.body));
    expect(qc.json.before.annotation_status).toBe('InProgress');
    expect(qc.json.after.annotation_status).toBe('QualityCheck');
    expect(at('/returned')).toHaveLength(1);
    expect(at('/done')).toHaveLength(1);
    expect(at('/done')[0]!.json.after.annotation_status).toBe('Completed');
    expect(at('/assigned')).toHaveLength(1);
    expect(at('/assigned')[0]!.json).toMatchObject({ op: 'u', before: { annotator_id: null }, after: { id: t1.id, annotator_id: 'ann@a.test', annotator_name: 'Ann' } });
    expect(at('/created').map((r) => r.json.op)).toEqual(['c', 'c']);
    expect(at('/deleted')[0]!.json).toMatchObject({ op: 'd', after: null, before: { id: t2.id } });
  });

  it('incoming webhook: a token shown once, 202 once written, 401 with a wrong or missing token, bounded body', async () => {
    const pl = await pipeline({ name: 'hook', trigger: { event: 'incoming_webhook' }, action: { type: 'send_webhook', request_url: `${rx.url}/hooked` } });
    expect(pl.hook_token).toMatch(/^lch_/);
    expect(pl.hook).toMatchObject({ url: `http://labelcast.test/v1/hooks/${pl.id}`, header: 'X-Hook-Token', token_prefix: pl.hook_token.slice(0, 8) });
    const shown = (await api.call('GET', `/v1/pipelines/${pl.id}`)).body;
    expect(shown.hook_token).toBeUndefined();
    expect(JSON.stringify(shown)).not.toContain(pl.hook_token);
    expect(JSON.stringify((await api.call('GET', '/v1/pipelines')).body)).not.toContain(pl.hook_token);

    for (const headers of [{}, { 'x-hook-token': 'lch_wrong' }, { 'x-hook-token': pl.hook_token.slice(0, -1) }] as Record<string, string>[]) {
      const res = await api.call('POST', `/v1/hooks/${pl.id}`, { key: '', headers, body: { a: 1 } });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('hook_unauthorized');
    }
    const unknown = await api.call('POST', '/v1/hooks/999999', { key: '', headers: { 'x-hook-token': pl.hook_token }, body: {} });
    expect(unknown.status).toBe(401);
    const big = await api.call('POST', `/v1/hooks/${pl.id}`, { key: '', headers: { 'x-hook-token': pl.hook_token }, body: { s: 'x'.repeat(300 * 1024) } });
    expect(big.status).toBe(413);

    const body = { image: 'img_1.jpg', labels: [1, 2], nested: { ok: true } };
    const res = await api.call('POST', `/v1/hooks/${pl.id}`, { key: '', headers: { 'x-hook-token': pl.hook_token }, body });
    expect(res.status).toBe(202);
    expect(res.body.deliveries).toHaveLength(1);
    // Durable before the answer: the delivery is in the database.
    const row = await api.store.db.selectFrom('deliveries').selectAll().where('id', '=', res.body.deliveries[0]).executeTakeFirstOrThrow();
    expect(JSON.parse(row.payload!)).toMatchObject({ id: res.body.event_id, type: 'pipeline.incoming_webhook', data: { context: body } });
    const got = await waitFor(() => at('/hooked')[0], 'the hook delivery');
    expect(got.json).toEqual(body);
    expect(got.headers['x-event']).toBe('incoming_webhook');
  });

  it('periodic: a cron run in a time zone fires once across racing schedulers', async () => {
    const bad = await api.call('POST', '/v1/pipelines', { body: { name: 'x', trigger: { event: 'periodic', cron: '61 * * * *' }, action: { type: 'send_webhook', request_url: `${rx.url}/x` } } });
    expect(bad.status).toBe(400);
    expect((await api.call('POST', '/v1/pipelines', { body: { name: 'x', trigger: { event: 'periodic', cron: '0 * * * *', tz: 'Mars/Olympus' }, action: { type: 'send_webhook', request_url: `${rx.url}/x` } } })).status).toBe(400);
    const pl = await pipeline({ name: 'hourly', trigger: { event: 'periodic', cron: '30 * * * *', tz: 'Asia/Kolkata' }, action: { type: 'send_webhook', request_url: `${rx.url}/periodic` } });
    expect(pl.trigger).toEqual({ event: 'periodic', cron: '30 * * * *', tz: 'Asia/Kolkata' });
    // Minute 30 in Kolkata (UTC+05:30) is minute 0 UTC: the next full UTC hour.
    const run = Math.ceil((Date.now() + 1) / 3_600_000) * 3_600_000;
    const s1 = new Scheduler(api.svc, api.app.log);
    const s2 = new Scheduler(api.svc, api.app.log);
    expect(await s1.tick(run - 1000)).toMatchObject({ digests: 0 });
    await Promise.all([s1.tick(run + 5000), s2.tick(run + 5000), s1.tick(run + 10_000)]);
    const rows = await api.store.db.selectFrom('deliveries').selectAll().where('notification_id', '=', pl.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.dedupe_key).toBe(`periodic:${pl.id}:${run}:${pl.action.id}`);
    const got = await waitFor(() => at('/periodic')[0], 'the periodic delivery');
    expect(got.json).toEqual({ fire_at: new Date(run).toISOString(), ts_ms: run, cron: '30 * * * *', tz: 'Asia/Kolkata' });
    expect(got.headers['x-event']).toBe('periodic');
  });

  it('manual: run now with a custom body, to a webhook and an email', async () => {
    // A notification for "all" events: a pipeline's firing is its own, never routed to others.
    const all = (await api.call('POST', '/v1/notifications', { body: { title: 'everything', triggers: ['all'], channels: [{ type: 'webhook', url: `${rx.url}/all` }] } })).body;
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'Manual' } })).body;
    const pl = await pipeline({ name: 'by hand', project: p.id, trigger: { event: 'manual' }, actions: [{ type: 'send_webhook', request_url: `${rx.url}/manual` }, { type: 'send_email', recipients: ['admin@a.test'] }] });
    expect(pl.actions).toHaveLength(2);
    const res = await api.call('POST', `/v1/pipelines/${pl.id}/run`, { body: { from: 'Draft', to: 'Ready', note: 'go' } });
    expect(res.status).toBe(202);
    expect(res.body.deliveries).toHaveLength(2);
    expect((await waitFor(() => at('/manual')[0], 'manual webhook')).json).toEqual({ from: 'Draft', to: 'Ready', note: 'go' });
    const mail = await waitFor(() => smtp.mails.find((m) => m.envelopeTo.includes('admin@a.test') && m.text?.includes('Manual run')), 'manual email');
    expect(mail.text).toBe('Event - "Manual run"\nFrom Value - "Draft"\nTo Value - "Ready"\nTriggered by - "Org A/Manual"\n');
    const leaked = await api.store.db.selectFrom('deliveries').select('event_type').where('notification_id', '=', all.id).execute();
    expect(leaked.filter((d) => d.event_type.startsWith('pipeline.'))).toEqual([]);
    expect(leaked.length).toBeGreaterThan(0); // it does get the project's own events
    const other = await api.call('POST', `/v1/pipelines/${pl.id}/run`, { key: api.b.key, body: {} });
    expect(other.status).toBe(404);
  });

  it('custom action: event and context as seed 004, secrets masked, runs listed, failures final, rerun', async () => {
    const secret = await api.call('POST', '/v1/secrets', { body: { name: 'sa-sdk', values: { SA_TOKEN: 'tok-12345-secret' } } });
    expect(secret.status).toBe(201);
    expect(secret.body).toMatchObject({ name: 'sa-sdk', keys: ['SA_TOKEN'] });
    expect(JSON.stringify((await api.call('GET', '/v1/secrets')).body)).not.toContain('tok-12345-secret');
    const stored = await api.store.db.selectFrom('action_secrets').select('sealed').where('name', '=', 'sa-sdk').executeTakeFirstOrThrow();
    expect(stored.sealed).not.toContain('tok-12345-secret');
    const missing = await api.call('POST', '/v1/pipelines', { body: { name: 'x', trigger: { event: 'manual' }, action: { type: 'custom_action', language: 'javascript', code: 'function handler(){}', secret: 'nope' } } });
    expect(missing.status).toBe(404);

    const p = (await api.call('POST', '/v1/projects', { body: { title: 'Actions' } })).body;
    const code = `function handler(event, context) { console.log('token is ' + secrets.SA_TOKEN); return { seen: event.event, op: context.op, extra: event.dataset, status: context.after.status }; }`;
    const pl = await pipeline({ name: 'act', project: p.id, trigger: { event: 'project.status_changed' }, action: { type: 'custom_action', language: 'javascript', code, args: { dataset: 'v2' }, secret: 'sa-sdk' } });
    expect(pl.action).toMatchObject({ type: 'custom_action', language: 'javascript', args: { dataset: 'v2' }, secret: 'sa-sdk', ttl_s: 10800, limits: { memory_mb: 128 } });
    expect(pl.action.channel).toBe(pl.action.id);
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { status: 'InProgress' } });
    const runs = await waitFor(async () => {
      const r = (await api.call('GET', `/v1/actions/${pl.action.id}/runs`)).body.data;
      return r[0]?.status === 'succeeded' ? r : null;
    }, 'a succeeded run');
    const run = runs[0];
    expect(run.input.event).toMatchObject({ uuid: run.id, event: 'project u', pipeline_id: pl.id, dataset: 'v2' });
    expect(typeof run.input.event.trigger_result_id).toBe('string');
    expect(typeof run.input.event.ts_ms).toBe('number');
    expect(run.input.context).toMatchObject({ op: 'u', before: { status: 'NotStarted' }, after: { id: p.id, name: 'Actions', status: 'InProgress' } });
    expect(run.input.context.ts_ms).toBe(run.input.event.ts_ms);
    expect(run.output).toEqual({ seen: 'project u', op: 'u', extra: 'v2', status: 'InProgress' });
    expect(run.logs).toBe('token is ********');
    expect(JSON.stringify(runs)).not.toContain('tok-12345-secret');
    expect(run.duration_ms).toBeGreaterThanOrEqual(0);
    expect((await api.call('GET', `/v1/actions/${pl.action.id}/runs/${run.id}`)).body).toEqual(run);

    // A handler's error is final (no automatic retry), with its traceback; rerun runs it again.
    const patched = await api.call('PATCH', `/v1/actions/${pl.action.id}`, { body: { code: `function handler(e, c) { console.log('about to fail'); throw new Error('boom ' + secrets.SA_TOKEN); }` } });
    expect(patched.status).toBe(200);
    expect((await api.call('PATCH', `/v1/actions/${pl.action.id}`, { body: { request_url: 'http://x.test' } })).status).toBe(400);
    await api.call('PATCH', `/v1/projects/${p.id}`, { body: { status: 'OnHold' } });
    const failed = await waitFor(async () => {
      const r = (await api.call('GET', `/v1/actions/${pl.action.id}/runs?status=failed`)).body.data;
      return r[0] ?? null;
    }, 'a failed run');
    expect(failed.attempts).toBe(1);
    expect(failed.error).toContain('boom ********');
    expect(failed.output.error.traceback).toContain('Error: boom ********');
    expect(failed.logs).toBe('about to fail');
    await new Promise((r) => setTimeout(r, 300));
    expect((await api.call('GET', `/v1/actions/${pl.action.id}/runs/${failed.id}`)).body.attempts).toBe(1);
    await api.call('PATCH', `/v1/actions/${pl.action.id}`, { body: { code: 'function handler(e) { return "again " + e.uuid; }' } });
    const again = await api.call('POST', `/v1/actions/${pl.action.id}/runs/${failed.id}/rerun`);
    expect(again.status).toBe(202);
    const done = await waitFor(async () => {
      const r = (await api.call('GET', `/v1/actions/${pl.action.id}/runs/${failed.id}`)).body;
      return r.status === 'succeeded' ? r : null;
    }, 'the rerun');
    expect(done.output).toBe(`again ${failed.id}`);
    expect(done.attempts).toBe(2);
    expect((await api.call('DELETE', `/v1/secrets/${secret.body.id}`)).status).toBe(409);

    // An event the superannotate body does not cover (a label) still gets {op, before, after, ts_ms}.
    const labelled = await pipeline({ name: 'labels', project: p.id, trigger: { event: 'annotation.created' }, action: { type: 'custom_action', language: 'javascript', code: 'function handler(e, c) { return c.op + ":" + c.after.id; }' } });
    const [task] = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: [{ data: { x: 1 } }] } })).body.tasks;
    const label = (await api.call('POST', `/v1/tasks/${task.id}/labels`, { body: { result: [] } })).body;
    const labelRun = await waitFor(async () => (await api.call('GET', `/v1/actions/${labelled.action.id}/runs?status=succeeded`)).body.data[0], 'the label run');
    expect(labelRun.output).toBe(`c:${label.id}`);
    expect(labelRun.input.event.event).toBe('annotation.created');
    expect((await api.call('GET', `/v1/actions/${pl.action.id}/runs`, { key: api.b.key })).status).toBe(404);
  });

  it('custom action: an incoming webhook body is the context; without a runner nothing is faked; TTL expires', async () => {
    const pl = await pipeline({ name: 'hook-act', trigger: { event: 'incoming_webhook' }, action: { type: 'custom_action', language: 'python', code: 'def handler(event, context):\n    return context', ttl_s: 1 } });
    // This worker's test runner runs JavaScript only: a Python handler fails there, visibly.
    const res = await api.call('POST', `/v1/hooks/${pl.id}`, { key: '', headers: { 'x-hook-token': pl.hook_token }, body: { item: 7 } });
    expect(res.status).toBe(202);
    const run = await waitFor(async () => {
      const r = (await api.call('GET', `/v1/actions/${pl.action.id}/runs/${res.body.deliveries[0]}`)).body;
      return r.status === 'failed' ? r : null;
    }, 'the python run');
    expect(run.input).toMatchObject({ event: { event: 'incoming_webhook', pipeline_id: pl.id, trigger_result_id: res.body.event_id }, context: { item: 7 } });

    // A process without a runner: the run is attempted, fails with the reason, and waits for a retry.
    const bare = await setupApi(kind, { worker: true, delivery: { schedule: [0, 60_000] } });
    try {
      const p2 = (await bare.call('POST', '/v1/pipelines', { body: { name: 'm', trigger: { event: 'manual' }, action: { type: 'custom_action', language: 'javascript', code: 'function handler(){ return 1 }', ttl_s: 1 } } })).body;
      const fired = (await bare.call('POST', `/v1/pipelines/${p2.id}/run`, { body: {} })).body;
      const pending = await waitFor(async () => {
        const r = (await bare.call('GET', `/v1/actions/${p2.action.id}/runs/${fired.deliveries[0]}`)).body;
        return r.attempts === 1 ? r : null;
      }, 'the attempt without runner');
      expect(pending.status).toBe('pending');
      expect(pending.error).toContain('no custom-action runner');
      expect(await expireActionRuns(bare.store, Date.now() + 1500)).toBe(1);
      const expired = (await bare.call('GET', `/v1/actions/${p2.action.id}/runs/${fired.deliveries[0]}`)).body;
      expect(expired.status).toBe('expired');
      expect(expired.error).toContain('TTL');
      expect((await bare.call('GET', `/v1/actions/${p2.action.id}/runs?status=expired`)).body.data).toHaveLength(1);
    } finally {
      await bare.close();
    }
  });

  it('actions are added, changed and removed inside a pipeline; delete removes its hook', async () => {
    const pl = await pipeline({ name: 'edit', trigger: { event: 'incoming_webhook' }, action: { type: 'send_webhook', request_url: `${rx.url}/e1` } });
    const added = await api.call('POST', `/v1/pipelines/${pl.id}/actions`, { body: { type: 'custom_action', language: 'javascript', code: 'function handler(){}' } });
    expect(added.status).toBe(201);
    const email = await api.call('POST', `/v1/pipelines/${pl.id}/actions`, { body: { type: 'send_email', recipients: ['admin@a.test'] } });
    expect(email.body.code).toBe('email_trigger_not_allowed');
    expect((await api.call('GET', `/v1/pipelines/${pl.id}`)).body.actions.map((a: any) => a.type)).toEqual(['send_webhook', 'custom_action']);
    expect((await api.call('PATCH', `/v1/actions/${pl.action.id}`, { body: { request_url: `${rx.url}/e2` } })).body.request_url).toBe(`${rx.url}/e2`);
    expect((await api.call('DELETE', `/v1/actions/${added.body.id}`)).status).toBe(204);
    expect((await api.call('GET', `/v1/actions/${added.body.id}`)).status).toBe(404);
    // The last action stays: a pipeline needs one (as on create); the channel route refuses too.
    const last = await api.call('DELETE', `/v1/actions/${pl.action.id}`);
    expect([last.status, last.body.code]).toEqual([409, 'invalid_state']);
    expect((await api.call('DELETE', `/v1/channels/${pl.action.id}`)).status).toBe(409);
    expect((await api.call('GET', `/v1/actions/${pl.action.id}`)).status).toBe(200);
    // The trigger changes: away from incoming_webhook the token is gone; back, a new one is shown once.
    const moved = await api.call('PATCH', `/v1/pipelines/${pl.id}`, { body: { name: 'renamed', trigger: { event: 'manual' }, is_active: false } });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ name: 'renamed', trigger: { event: 'manual' }, is_active: false });
    expect(moved.body.hook).toBeUndefined();
    expect((await api.call('POST', `/v1/hooks/${pl.id}`, { key: '', headers: { 'x-hook-token': pl.hook_token }, body: {} })).status).toBe(401);
    const back = await api.call('PATCH', `/v1/pipelines/${pl.id}`, { body: { trigger: { event: 'incoming_webhook' }, is_active: true } });
    expect(back.body.hook_token).toMatch(/^lch_/);
    expect(back.body.hook_token).not.toBe(pl.hook_token);
    expect((await api.call('POST', `/v1/hooks/${pl.id}`, { key: '', headers: { 'x-hook-token': back.body.hook_token }, body: {} })).status).toBe(202);
    const mailer = await pipeline({ name: 'mailer', trigger: { event: 'project.created' }, action: { type: 'send_email', recipients: ['admin@a.test'] } });
    const refused = await api.call('PATCH', `/v1/pipelines/${mailer.id}`, { body: { trigger: { event: 'periodic', cron: '0 * * * *' } } });
    expect(refused.body.code).toBe('email_trigger_not_allowed');
    expect((await api.call('GET', `/v1/pipelines/${mailer.id}`)).body.trigger).toEqual({ event: 'project.created' });
    // The generic route cannot go around the pipeline's trigger checks.
    const generic = await api.call('PATCH', `/v1/notifications/${mailer.id}`, { body: { triggers: ['task.submitted'] } });
    expect([generic.status, generic.body.code]).toEqual([409, 'invalid_state']);
    expect((await api.call('GET', `/v1/pipelines/${mailer.id}`)).body.trigger).toEqual({ event: 'project.created' });
    expect((await api.call('PATCH', `/v1/notifications/${mailer.id}`, { body: { title: 'mailer 2' } })).status).toBe(200);
    expect((await api.call('DELETE', `/v1/pipelines/${pl.id}`)).status).toBe(204);
    expect(await api.store.db.selectFrom('pipeline_hooks').select('notification_id').where('notification_id', '=', pl.id).execute()).toEqual([]);
    expect((await api.call('POST', `/v1/hooks/${pl.id}`, { key: '', headers: { 'x-hook-token': pl.hook_token }, body: {} })).status).toBe(401);
  });
});
