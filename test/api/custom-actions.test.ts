// Custom actions through the API with the production runner: the sandbox pool of restricted
// QuickJS and Pyodide processes (src/delivery/sandbox-runner.ts), on both databases. A handler
// in each language calls a receiver on 127.0.0.1 with a mounted secret and returns JSON; the
// run's output and masked logs come back from /v1/actions/{id}/runs; a failure keeps its
// traceback; an escape attempt fails the run and the next one still succeeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { ok, startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { sandboxRunner, type SandboxRunner } from '../../src/delivery/sandbox-runner.js';

const TOKEN = 'sk-live-4f9a2c7e';

describe.each(DIALECTS)('custom actions in the sandbox on %s', (dialect) => {
  let api: TestApi;
  let rx: Receiver;
  let runner: SandboxRunner;

  beforeAll(async () => {
    // The receiver is on loopback, so the handler's fetch needs the same allowance webhooks get in tests.
    runner = sandboxRunner({ targets: { allowPrivate: true, allowlist: null }, proxyUrl: undefined, processes: 2 });
    api = await setupApi(dialect, { worker: true, actionRunner: runner });
    rx = await startReceiver((req, n, res) => ok(req, n, res));
    await api.call('POST', '/v1/secrets', { body: { name: 'ml-api', values: { API_TOKEN: TOKEN } } });
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await runner?.close();
    await rx?.close();
  });

  async function runNow(language: 'javascript' | 'python', code: string, body: Record<string, unknown>) {
    const pl = (await api.call('POST', '/v1/pipelines', { body: { name: `${language} action`, trigger: { event: 'manual' }, action: { type: 'custom_action', language, code, secret: 'ml-api', args: { model: 'v3' } } } })).body;
    expect(pl.action?.id, JSON.stringify(pl)).toBeDefined();
    const fired = await api.call('POST', `/v1/pipelines/${pl.id}/run`, { body });
    expect(fired.status).toBe(202);
    const run = await waitFor(async () => {
      const r = (await api.call('GET', `/v1/actions/${pl.action.id}/runs/${fired.body.deliveries[0]}`)).body;
      return r.status === 'succeeded' || r.status === 'failed' ? r : null;
    }, `the ${language} run`, 60_000);
    return { pl, run };
  }

  it('runs a JavaScript handler that calls an API with a mounted secret', async () => {
    const code = `async function handler(event, context) {
  console.log('calling with ' + secrets.API_TOKEN);
  const res = await fetch('${rx.url}/train', { method: 'POST', headers: { authorization: 'Bearer ' + secrets.API_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ model: event.model, task: context.task }) });
  return { status: res.status, model: event.model, pipeline: event.pipeline_id };
}`;
    const { pl, run } = await runNow('javascript', code, { task: 7 });
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(run.output).toEqual({ status: 200, model: 'v3', pipeline: pl.id });
    expect(run.logs).toBe('calling with ********');
    expect(JSON.stringify(run)).not.toContain(TOKEN);
    const got = rx.received.find((r) => r.path === '/train' && JSON.parse(r.body).task === 7);
    expect(got?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  }, 60_000);

  it('runs a SuperAnnotate-style Python handler with requests and os.environ', async () => {
    const code = `import os
import requests

def handler(event, context):
    print("token", os.environ["API_TOKEN"])
    r = requests.post("${rx.url}/py", json={"model": event["model"], "task": context["task"]}, headers={"Authorization": "Bearer " + os.environ["API_TOKEN"]})
    return {"status": r.status_code, "echo": r.json()["ok"]}
`;
    const { run } = await runNow('python', code, { task: 8 });
    expect(run.status, JSON.stringify(run)).toBe('succeeded');
    expect(run.output).toEqual({ status: 200, echo: true });
    expect(run.logs).toContain('token ********');
    expect(JSON.stringify(run)).not.toContain(TOKEN);
    const got = rx.received.find((r) => r.path === '/py');
    expect(got?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(got!.body)).toEqual({ model: 'v3', task: 8 });
  }, 60_000);

  it('records a failing handler with its traceback, an escape attempt as a failed run, and keeps serving', async () => {
    const broken = await runNow('python', 'def handler(event, context):\n    return 1 / 0\n', {});
    expect(broken.run.status).toBe('failed');
    expect(broken.run.error).toContain('ZeroDivisionError');
    expect(broken.run.output.error.traceback).toContain('ZeroDivisionError');
    const escape = await runNow('javascript', `function handler() { return require('fs').readFileSync('/etc/passwd', 'utf8'); }`, {});
    expect(escape.run.status).toBe('failed');
    expect(JSON.stringify(escape.run)).not.toContain('root:');
    const after = await runNow('javascript', 'function handler(e) { return e.model; }', {});
    expect(after.run.output).toBe('v3');
    expect((await api.call('GET', '/healthz')).status).toBe(200);
  }, 120_000);
});
