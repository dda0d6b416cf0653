// The embedded start: `labelcast serve` on a fresh SQLite file, over a real socket.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startServer, type Running } from '../src/server.js';

describe('serve on embedded SQLite', () => {
  const dirs: string[] = [];
  let running: Running | undefined;
  afterEach(async () => {
    await running?.close();
    running = undefined;
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-serve-'));
    dirs.push(d);
    return d;
  };

  it('prints a generated admin key once, serves it, and keeps data across restarts', async () => {
    const data = tmp();
    const lines: string[] = [];
    const config = loadConfig({ LOG_LEVEL: 'silent' }, { port: '0', host: '127.0.0.1', data });
    running = await startServer(config, (l) => lines.push(l));
    const key = lines.join('\n').match(/lc_[A-Za-z0-9_-]{43}/)?.[0];
    expect(key).toBeDefined();
    expect(fs.existsSync(path.join(data, 'labelcast.db'))).toBe(true);
    // No LABELCAST_SECRET_KEY: the sealing key is a file beside the database, owner-only.
    const keyFile = path.join(data, 'labelcast.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const sealingKey = fs.readFileSync(keyFile, 'utf8');
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const created = await fetch(`${running.url}/v1/projects`, { method: 'POST', headers: auth, body: JSON.stringify({ title: 'kept' }) });
    expect(created.status).toBe(201);
    expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${running.url}/openapi.json`)).status).toBe(200);
    await running.close();

    const again: string[] = [];
    running = await startServer(config, (l) => again.push(l));
    expect(again.join('\n')).not.toMatch(/lc_/);
    expect(fs.readFileSync(keyFile, 'utf8')).toBe(sealingKey);
    const list = await (await fetch(`${running.url}/v1/projects`, { headers: auth })).json();
    expect(list.data.map((p: { title: string }) => p.title)).toEqual(['kept']);
  });

  it('wires the sandbox: a custom action runs in a served process (no "no runner" failure)', async () => {
    const lines: string[] = [];
    const config = loadConfig({ LOG_LEVEL: 'silent' }, { port: '0', host: '127.0.0.1', data: tmp() });
    running = await startServer(config, (l) => lines.push(l));
    const key = lines.join('\n').match(/lc_[A-Za-z0-9_-]{43}/)?.[0];
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const code = 'function handler(event, context) { console.log("hi"); return { doubled: context.n * 2 }; }';
    const pl = await (await fetch(`${running.url}/v1/pipelines`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'wired', trigger: { event: 'manual' }, action: { type: 'custom_action', language: 'javascript', code } }) })).json();
    const fired = await (await fetch(`${running.url}/v1/pipelines/${pl.id}/run`, { method: 'POST', headers: auth, body: JSON.stringify({ n: 21 }) })).json();
    let run: any;
    for (let i = 0; i < 300 && run?.status !== 'succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      run = await (await fetch(`${running.url}/v1/actions/${pl.action.id}/runs/${fired.deliveries[0]}`, { headers: auth })).json();
    }
    expect(run).toMatchObject({ status: 'succeeded', output: { doubled: 42 }, logs: 'hi' });
  }, 30_000);

  it('refuses a short LABELCAST_ADMIN_KEY and a non-postgres DATABASE_URL with a clear message', () => {
    expect(() => loadConfig({ LABELCAST_ADMIN_KEY: 'short' })).toThrow(/at least 16 characters/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(/postgres:\/\//);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/integer from 0 to 65535/);
  });
});
