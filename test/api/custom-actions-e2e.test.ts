// Custom actions end to end through the API with the REAL sandbox (issue 13): QuickJS and
// Pyodide in restricted child processes via src/delivery/sandbox-runner.ts, as src/server.ts
// wires it, on SQLite and PostgreSQL. Needs `npm run build` (the interpreter worker is
// compiled JavaScript). No node:vm runner here; the one concurrency test below uses a
// test-only blocking runner, labelled, because holding 40 runs open is about the queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { createSandboxRunner, type SandboxRunner } from '../../src/delivery/sandbox-runner.js';
import { loadDeliverySettings } from '../../src/model/delivery-settings.js';
import type { ActionRunner } from '../../src/model/action-run.js';

const TOKEN = 'tok-e2e-0123456789';

describe.each(KINDS)('custom actions in the sandbox on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  let runner: SandboxRunner;
  beforeAll(async () => {
    rx = await startReceiver((r, _n, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: r.path, auth: r.headers.authorization ?? null, got: r.json }));
    });
    const settings = loadDeliverySettings({});
    runner = createSandboxRunner({ targets: { allowPrivate: true, allowlist: null }, proxyUrl: undefined, fetchTimeoutMs: 5000, settings: { ...settings.actions, processes: 2 } });
    api = await setupApi(kind, { worker: true, actionRunner: runner });
    expect((await api.call('POST', '/v1/secrets', { body: { name: 'ext-api', values: { API_TOKEN: TOKEN } } })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await runner?.close();
    await rx?.close();
  });

  const runOf = async (actionId: number, runId: number, status: string) =>
    waitFor(async () => {
      const r = (await api.call('GET', `/v1/actions/${actionId}/runs/${runId}`)).body;
      return r.status === status ? r : null;
    }, `run ${runId} ${status}`, 30_000);

  const manual = async (name: string, language: string, code: string) => {
    const pl = await api.call('POST', '/v1/pipelines', { body: { name, trigger: { event: 'manual' }, action: { type: 'custom_action', language, code, secret: 'ext-api', args: { dataset: 'v2' } } } });
    expect(pl.status, JSON.stringify(pl.body)).toBe(201);
    return pl.body;
  };

  it('JavaScript: calls a receiver with the mounted secret, returns JSON, the secret is masked in logs; a failure shows its traceback; rerun', async () => {
    const code = `async function handler(event, context) {
  console.log('using ' + secrets.API_TOKEN);
  const r = await fetch('${rx.url}/js', { method: 'POST', headers: { Authorization: 'Bearer ' + secrets.API_TOKEN, 'Content-Type': 'application/json' }, body: JSON.stringify({ item: context.item, dataset: event.dataset }) });
  if (context.fail) throw new Error('handler failed on purpose');
  const body = await r.json();
  return { status: r.status, path: body.path, authorized: body.auth === 'Bearer ' + secrets.API_TOKEN, echoed: body.got };
}`;
    const pl = await manual('js-ext', 'javascript', code);
    const fired = (await api.call('POST', `/v1/pipelines/${pl.id}/run`, { body: { item: 7 } })).body;
    const run = await runOf(pl.action.id, fired.deliveries[0], 'succeeded');
    expect(run.output).toEqual({ status: 200, path: '/js', authorized: true, echoed: { item: 7, dataset: 'v2' } });
    expect(rx.received.find((r) => r.path === '/js')!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(run.logs).toMatch(/^using \*{4,}$/);
    expect(JSON.stringify(run)).not.toContain(TOKEN);
    expect(run.duration_ms).toBeGreaterThan(0);
    const list = (await api.call('GET', `/v1/actions/${pl.action.id}/runs`)).body.data;
    expect(list.map((r: any) => r.id)).toEqual([run.id]);

    const bad = (await api.call('POST', `/v1/pipelines/${pl.id}/run`, { body: { item: 8, fail: true } })).body;
    const failed = await runOf(pl.action.id, bad.deliveries[0], 'failed');
    expect(failed.error).toContain('handler failed on purpose');
    expect(failed.output.error.traceback).toContain('handler failed on purpose');
    expect(failed.output.error.traceback).toContain('handler');
    expect(failed.attempts).toBe(1);
    // Rerun with the failure removed from the code: the same run succeeds, second attempt.
    await api.call('PATCH', `/v1/actions/${pl.action.id}`, { body: { code: code.replace("if (context.fail) throw new Error('handler failed on purpose');", '') } });
    expect((await api.call('POST', `/v1/actions/${pl.action.id}/runs/${failed.id}/rerun`)).status).toBe(202);
    const again = await runOf(pl.action.id, failed.id, 'succeeded');
    expect(again.attempts).toBe(2);
    expect(again.output).toMatchObject({ status: 200, authorized: true, echoed: { item: 8 } });
  }, 60_000);

  it('Python: requests with os.environ, JSON out, print masked, traceback on failure, rerun; the server stays healthy', async () => {
    const code = `import os, json, requests

def handler(event, context):
    token = os.environ["API_TOKEN"]
    print("token", token)
    r = requests.post("${rx.url}/py", json={"item": context.get("item"), "event": event["event"]}, headers={"Authorization": "Bearer " + token})
    r.raise_for_status()
    if context.get("fail"):
        raise ValueError("bad item %s" % context["item"])
    return {"status": r.status_code, "echoed": r.json()["got"], "authorized": r.json()["auth"] == "Bearer " + secrets["API_TOKEN"]}
`;
    const pl = await manual('py-ext', 'python', code);
    const fired = (await api.call('POST', `/v1/pipelines/${pl.id}/run`, { body: { item: 'a.jpg' } })).body;
    const run = await runOf(pl.action.id, fired.deliveries[0], 'succeeded');
    expect(run.output).toEqual({ status: 200, echoed: { item: 'a.jpg', event: 'manual' }, authorized: true });
    expect(rx.received.find((r) => r.path === '/py')!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(run.logs).toMatch(/^token \*{4,}\n?$/);
    expect(JSON.stringify(run)).not.toContain(TOKEN);

    const bad = (await api.call('POST', `/v1/pipelines/${pl.id}/run`, { body: { item: 'b.jpg', fail: true } })).body;
    const failed = await runOf(pl.action.id, bad.deliveries[0], 'failed');
    expect(failed.error).toContain('ValueError: bad item b.jpg');
    expect(failed.output.error.traceback).toMatch(/Traceback[\s\S]*line \d+, in handler[\s\S]*ValueError: bad item b\.jpg/);
    expect((await api.call('POST', `/v1/actions/${pl.action.id}/runs/${failed.id}/rerun`)).status).toBe(202);
    const again = await waitFor(async () => {
      const r = (await api.call('GET', `/v1/actions/${pl.action.id}/runs/${failed.id}`)).body;
      return r.attempts === 2 && r.status !== 'pending' && r.status !== 'running' ? r : null;
    }, 'the rerun', 30_000);
    expect(again.status).toBe('failed'); // same code, same input: fails the same way, recorded again
    expect((await api.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    // A runaway handler is stopped by its limit, and the next run still works.
    const loop = await api.call('POST', '/v1/pipelines', { body: { name: 'loop', trigger: { event: 'manual' }, action: { type: 'custom_action', language: 'javascript', code: 'function handler(){ while(true){} }', limits: { cpu_ms: 300, wall_ms: 5000 } } } });
    const lf = (await api.call('POST', `/v1/pipelines/${loop.body.id}/run`, { body: {} })).body;
    expect((await runOf(loop.body.action.id, lf.deliveries[0], 'failed')).error).toMatch(/CPU time limit/);
    const ok2 = (await api.call('POST', `/v1/pipelines/${pl.id}/run`, { body: { item: 'c.jpg' } })).body;
    await runOf(pl.action.id, ok2.deliveries[0], 'succeeded');
    expect((await api.call('GET', '/healthz')).status).toBe(200);
  }, 90_000);
});

describe.each(KINDS)('custom-action concurrency on %s', (kind) => {
  it('at most 32 runs of one action at once; the rest wait their turn', async () => {
    // TEST-ONLY RUNNER: holds every run open until released, to observe the queue's cap.
    let active = 0;
    let peak = 0;
    const gates: Array<() => void> = [];
    let open = false;
    const held: ActionRunner = {
      run: (input) =>
        new Promise((resolve) => {
          active++;
          peak = Math.max(peak, active);
          const finish = () => {
            active--;
            resolve({ ok: true, output: input.runId, error: null, logs: '', duration_ms: 1 });
          };
          if (open) setTimeout(finish, 5);
          else gates.push(finish);
        }),
    };
    const api = await setupApi(kind, { worker: true, actionRunner: held });
    try {
      const pl = (await api.call('POST', '/v1/pipelines', { body: { name: 'many', trigger: { event: 'manual' }, action: { type: 'custom_action', language: 'javascript', code: 'function handler(){}' } } })).body;
      for (let i = 0; i < 40; i++) expect((await api.call('POST', `/v1/pipelines/${pl.id}/run`, { body: { i } })).status).toBe(202);
      await waitFor(() => gates.length >= 32, '32 runs started');
      await new Promise((r) => setTimeout(r, 600));
      expect(peak).toBe(32);
      const running = (await api.call('GET', `/v1/actions/${pl.action.id}/runs?status=running`)).body.data;
      expect(running).toHaveLength(32);
      // Lease covers the run's wall clock (5 min default), not a webhook's 2 s test timeout.
      const row = await api.store.db.selectFrom('deliveries').select('lease_until').where('id', '=', running[0].id).executeTakeFirstOrThrow();
      expect(Number(row.lease_until) - Date.now()).toBeGreaterThan(60_000);
      open = true;
      while (gates.length) gates.shift()!();
      const done = () => api.store.db.selectFrom('deliveries').select('id').where('channel_id', '=', pl.action.id).where('status', '=', 'succeeded').execute();
      await waitFor(async () => ((await done()).length >= 40 ? true : null), 'all 40 runs', 15_000);
      expect(peak).toBe(32);
    } finally {
      open = true;
      while (gates.length) gates.shift()!();
      await api.close();
    }
  }, 60_000);
});
