// `labelcast rotate-key` (issue 10 defect 4): a server seals under key A; rotate-key with
// LABELCAST_SECRET_KEY=B and LABELCAST_SECRET_KEY_OLD=A re-seals everything under B, safe to
// run again; a server with B alone then opens and signs with every secret, and one with A
// alone is refused at start. Once in process on both databases, once through the CLI.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { rotateKey, startServer, type Running } from '../../src/server.js';
import { CLI, freshDatabase } from '../helpers/process.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { KINDS } from '../helpers/stores.js';

const ADMIN = 'lc_test-admin-key-for-rotation-tests';
const key = () => crypto.randomBytes(32).toString('base64');
const A = key();
const B = key();

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function storage(kind: string): Promise<{ env: Record<string, string>; data: string }> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-rotate-'));
  cleanups.push(() => fs.rmSync(data, { recursive: true, force: true }));
  if (kind === 'sqlite') return { env: {}, data };
  const db = await freshDatabase();
  cleanups.push(db.drop);
  return { env: { DATABASE_URL: db.url }, data };
}

async function serve(env: Record<string, string>, data: string): Promise<Running> {
  const running = await startServer(loadConfig({ LOG_LEVEL: 'silent', LABELCAST_ADMIN_KEY: ADMIN, LABELCAST_ALLOW_PRIVATE_TARGETS: 'true', ...env }, { port: '0', host: '127.0.0.1', data }), () => undefined);
  cleanups.push(() => running.close());
  return running;
}

async function call(r: Running, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(r.url + p, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return res.status === 204 ? null : res.json();
}

/** Secrets sealed under A: a signed webhook with a credential header, on a project. */
async function sealUnderA(env: Record<string, string>, data: string, rx: Receiver) {
  const r = await serve({ ...env, LABELCAST_SECRET_KEY: A }, data);
  const project = (await call(r, 'POST', '/v1/projects', { title: 'Rotate' })).id;
  const n = await call(r, 'POST', '/v1/notifications', { title: 'n', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/hook`, secret: true, headers: { Authorization: 'Token rotate-me-123' } }] });
  await r.close();
  return { project, channel: n.channels[0].id as number, secret: n.channels[0].secret as string };
}

describe.each(KINDS)('rotate-key on %s', (kind) => {
  it('re-seals under the new key in batches, is safe to re-run, and the old key can then go', { timeout: 60_000 }, async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const { env, data } = await storage(kind);
    const { project, channel, secret } = await sealUnderA(env, data, rx);

    const lines: string[] = [];
    const config = loadConfig({ LOG_LEVEL: 'silent', LABELCAST_SECRET_KEY: B, LABELCAST_SECRET_KEY_OLD: A, ...env }, { data });
    const first = await rotateKey(config, (l) => lines.push(l), 1);
    // The channel secret, the header value and the key check, at least.
    expect(first.resealed).toBeGreaterThanOrEqual(3);
    expect(first).toMatchObject({ sealed: 0, raced: 0, unopenable: 0 });
    expect(lines.join('\n')).toMatch(/channels: 2 values, 2 re-sealed/);
    expect(lines.at(-1)).toMatch(/^Done: \d+ values, \d+ re-sealed/);
    expect(await rotateKey(config, () => undefined)).toMatchObject({ resealed: 0, sealed: 0, unopenable: 0 });

    // A is gone: a server with B alone opens every secret.
    const r = await serve({ ...env, LABELCAST_SECRET_KEY: B }, data);
    expect((await call(r, 'GET', `/v1/channels/${channel}`)).headers).toEqual({ Authorization: 'To****' });
    await call(r, 'PATCH', `/v1/projects/${project}`, { title: 'Rotated' });
    const got = await waitFor(() => rx.received.find((x) => x.path === '/hook'), 'the signed delivery');
    expect(got.headers.authorization).toBe('Token rotate-me-123');
    expect(new Webhook(secret).verify(got.body, got.headers as Record<string, string>)).toBeTruthy();
    await r.close();
    // And A alone is refused at start, saying what to do.
    await expect(serve({ ...env, LABELCAST_SECRET_KEY: A }, data)).rejects.toThrow(/sealed under key .*LABELCAST_SECRET_KEY_OLD/s);
  });
});

describe('labelcast rotate-key (CLI)', () => {
  it('prints counts, exits 0; with a value under an unknown key it says which setting is missing and exits 1', { timeout: 60_000 }, async () => {
    const rx = await startReceiver();
    cleanups.push(() => rx.close());
    const { data } = await storage('sqlite');
    await sealUnderA({}, data, rx);
    const run = (env: Record<string, string>) => spawnSync(process.execPath, [CLI, 'rotate-key', '--data', data, '--batch', '2'], { encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', ...env } });
    const ok = run({ LABELCAST_SECRET_KEY: B, LABELCAST_SECRET_KEY_OLD: A });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/Done: \d+ values, [1-9]\d* re-sealed, 0 sealed from plaintext, 0 changed meanwhile \(run again for those\), 0 under an unknown key\./);
    const again = run({ LABELCAST_SECRET_KEY: B, LABELCAST_SECRET_KEY_OLD: A });
    expect(again.stdout).toMatch(/Done: \d+ values, 0 re-sealed/);
    const lost = run({ LABELCAST_SECRET_KEY: key() });
    expect(lost.status).toBe(1);
    expect(lost.stderr).toMatch(/set LABELCAST_SECRET_KEY_OLD/);
    expect(run({ LABELCAST_SECRET_KEY: 'c2hvcnQ=' }).stderr).toMatch(/LABELCAST_SECRET_KEY must be the base64 of 32 random bytes/);
  });
});
