// Issue 10 defect 4: a copy of the database alone reveals no secret. Every kind of secret is
// stored through the API, deliveries go out (and verify with the receivers' own libraries),
// then the raw rows are read without Labelcast: SQLite through a plain better-sqlite3
// connection and the file's bytes (with its WAL), PostgreSQL through a plain query of every
// table in the schema. None of the plaintexts may appear. Then rotation: sealed under key A,
// rotated to B with A as the old key, A removed: everything still opens and delivers.
import crypto from 'node:crypto';
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRunInput, ActionRunner } from '../../src/model/action-run.js';
import { hmacHex } from '../../src/dialects/superannotate.js';
import { keyFrom, keyring } from '../../src/store/seal.js';
import { checkKeyring, sealStoredSecrets } from '../../src/store/sealed.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { BOT_TOKEN, CLIENT_ID, CLIENT_SECRET, startFakeSlack, type FakeSlack } from '../helpers/fake-slack.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { KINDS, TEST_DATABASE_URL } from '../helpers/stores.js';

const OWN_SECRET = 'whsec_' + crypto.randomBytes(32).toString('base64');
const AUTH_VALUE = 'hdr-secret-7f3a9c';
const TEAM_VALUE = 'team-value-51d0e2';
const LS_HEADER = 'ls-hdr-secret-3e1b77';
const SA_SECRET = 'sa-secret-0b9d44e1';
const HOOK_PATH = 'hookpath-2c7e91';
const ACTION_SECRET = 'act-secret-88c1f0';

/** Everything the database holds, read without Labelcast. */
async function rawDump(api: TestApi, kind: string): Promise<string> {
  if (kind === 'sqlite') {
    const file = api.location;
    const plain = new SQLite(file, { readonly: true });
    const tables = plain.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[];
    const rows = tables.map((t) => JSON.stringify(plain.prepare(`select * from "${t.name}"`).all()));
    plain.close();
    // The bytes too: the main file and its write-ahead log, where recent pages live.
    const bytes = [file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f).toString('latin1'));
    return [...rows, ...bytes].join('\n');
  }
  const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    const tables = (await c.query(`select table_name from information_schema.tables where table_schema = $1`, [api.location])).rows as { table_name: string }[];
    expect(tables.length).toBeGreaterThan(10);
    const out: string[] = [];
    for (const t of tables) out.push(...(await c.query(`select row_to_json(t)::text as j from ${api.location}."${t.table_name}" t`)).rows.map((r: { j: string }) => r.j));
    return out.join('\n');
  } finally {
    await c.end();
  }
}

describe.each(KINDS)('secrets at rest on %s', (kind) => {
  let api: TestApi;
  let rx: Receiver;
  let slack: FakeSlack;
  const runs: ActionRunInput[] = [];
  const runner: ActionRunner = {
    async run(input) {
      runs.push(input);
      return { ok: true, output: 1, error: null, logs: '', duration_ms: 1 };
    },
  };
  const keyA = keyFrom(crypto.randomBytes(32));
  const keyB = keyFrom(crypto.randomBytes(32));
  let rotated = '';
  let project = 0;

  beforeAll(async () => {
    rx = await startReceiver();
    slack = await startFakeSlack();
    api = await setupApi(kind, {
      worker: true,
      actionRunner: runner,
      ring: keyring(keyA),
      messaging: { slackApiUrl: slack.apiUrl, slackAuthorizeUrl: `${slack.url}/oauth/v2/authorize`, slackClientId: CLIENT_ID, slackClientSecret: CLIENT_SECRET },
    });
  });
  afterAll(async () => {
    await api?.close();
    await rx?.close();
    await slack?.close();
  });

  async function statusChange(status: string) {
    const before = { rx: rx.received.length, slack: slack.posts().length, runs: runs.length };
    await api.call('PATCH', `/v1/projects/${project}`, { body: { status } });
    // standard + superannotate to the receiver, bot + incoming webhook to Slack, one action run.
    const at = (p: string) => rx.received.slice(before.rx).some((r) => r.path === p);
    await waitFor(() => at('/std') && at('/sa') && slack.posts().length >= before.slack + 2 && runs.length >= before.runs + 1, 'every channel delivered', 15_000);
    return { standard: rx.received.slice(before.rx).find((r) => r.path === '/std')!, sa: rx.received.slice(before.rx).find((r) => r.path === '/sa')!, posts: slack.posts().slice(before.slack), run: runs[runs.length - 1]! };
  }

  it('stores every secret sealed, yet signs, authenticates and posts with the opened values', { timeout: 60_000 }, async () => {
    project = (await api.call('POST', '/v1/projects', { body: { title: 'Sealed' } })).body.id;
    // Slack: a workspace connected through OAuth (the bot token), and an incoming webhook.
    const state = new URL((await api.call('GET', '/v1/slack/install')).body.url).searchParams.get('state')!;
    expect((await api.app.inject({ method: 'GET', url: `/v1/slack/oauth/callback?code=good-code&state=${encodeURIComponent(state)}` })).statusCode).toBe(200);
    const triggers = ['project.status_changed'];
    const std = await api.call('POST', '/v1/notifications', {
      body: { title: 'std', triggers, channels: [{ type: 'webhook', url: `${rx.url}/std`, secret: OWN_SECRET, headers: { Authorization: `Token ${AUTH_VALUE}`, 'X-Team': TEAM_VALUE } }] },
    });
    expect(std.status).toBe(201);
    const channel = std.body.channels[0];
    // Rotated: the new secret and the previous one (now previous_secret) both sign for 24 h.
    rotated = (await api.call('POST', `/v1/channels/${channel.id}/rotate-secret`)).body.secret;
    expect(rotated).toMatch(/^whsec_/);
    expect((await api.call('POST', '/v1/notifications', { body: { title: 'slack', triggers, channels: [{ type: 'slack', webhook_url: `${slack.url}/services/T0/B0/${HOOK_PATH}` }, { type: 'slack', channel: 'C0REVIEW' }] } })).status).toBe(201);
    expect((await api.call('POST', '/v1/pipelines', { body: { name: 'sa', project, trigger: { event: 'project.status_changed' }, action: { type: 'send_webhook', request_url: `${rx.url}/sa`, secret: SA_SECRET } } })).status).toBe(201);
    expect((await api.call('POST', '/v1/webhooks', { body: { url: `${rx.url}/ls`, project, headers: { 'X-Api-Key': LS_HEADER }, send_for_all_actions: false, actions: ['PROJECT_UPDATED'] } })).status).toBe(201);
    expect((await api.call('POST', '/v1/secrets', { body: { name: 'sdk', values: { TOKEN: ACTION_SECRET } } })).status).toBe(201);
    expect((await api.call('POST', '/v1/pipelines', { body: { name: 'act', project, trigger: { event: 'project.status_changed' }, action: { type: 'custom_action', language: 'javascript', code: 'function handler(){ return 1 }', secret: 'sdk' } } })).status).toBe(201);

    // Views still show what they showed: masked from the opened values.
    const view = (await api.call('GET', `/v1/channels/${channel.id}`)).body;
    expect(view.headers).toEqual({ Authorization: 'To****', 'X-Team': TEAM_VALUE });
    expect((await api.call('GET', '/v1/webhooks')).body.data[0].headers).toEqual({ 'X-Api-Key': 'ls****' });

    const got = await statusChange('InProgress');
    expect(got.standard.headers.authorization).toBe(`Token ${AUTH_VALUE}`);
    expect(got.standard.headers['x-team']).toBe(TEAM_VALUE);
    expect((new Webhook(rotated).verify(got.standard.body, got.standard.headers as Record<string, string>) as any).type).toBe('project.status_changed');
    expect(new Webhook(OWN_SECRET).verify(got.standard.body, got.standard.headers as Record<string, string>)).toBeTruthy();
    expect(got.sa.headers['x-authorization-content-sha256']).toBe(hmacHex(SA_SECRET, got.sa.body));
    expect(got.posts.find((p) => p.method === 'chat.postMessage')!.auth).toBe(`Bearer ${BOT_TOKEN}`);
    expect(got.posts.some((p) => p.method === 'incoming-webhook')).toBe(true);
    expect(got.run.secrets).toEqual({ TOKEN: ACTION_SECRET });

    const dump = await rawDump(api, kind);
    expect(dump).toContain('v1:'); // the sealed forms are there
    for (const plain of [OWN_SECRET.slice(6), rotated.slice(6), AUTH_VALUE, TEAM_VALUE, LS_HEADER, SA_SECRET, HOOK_PATH, BOT_TOKEN, ACTION_SECRET]) {
      expect(dump.includes(plain), `${plain} is in the ${kind} database`).toBe(false);
    }
  });

  it('rotates: sealed under A, re-sealed under B with A as the old key, then A removed: everything opens', { timeout: 60_000 }, async () => {
    const both = keyring(keyB, keyA);
    const first = await sealStoredSecrets(api.store, both, { mode: 'rotate', batchSize: 2 });
    // 2 channel secrets, 3 header values, the SA secret, the hook URL, the bot token, the
    // action set and the OAuth state key.
    expect(first.resealed).toBe(10);
    expect(first).toMatchObject({ sealed: 0, unopenable: 0, raced: 0 });
    // Safe to re-run: nothing left to do.
    expect(await sealStoredSecrets(api.store, both, { mode: 'rotate', batchSize: 2 })).toMatchObject({ resealed: 0, sealed: 0, unopenable: 0 });
    const dump = await rawDump(api, kind);
    expect(dump).toContain(`v1:${keyB.id}:`);
    if (kind === 'postgres') expect(dump).not.toContain(`v1:${keyA.id}:`);

    // The process now runs with B alone (A removed from the ring).
    api.svc.ring = keyring(keyB);
    await checkKeyring(api.store, api.svc.ring);
    const got = await statusChange('Completed');
    expect(new Webhook(rotated).verify(got.standard.body, got.standard.headers as Record<string, string>)).toBeTruthy();
    expect(got.standard.headers.authorization).toBe(`Token ${AUTH_VALUE}`);
    expect(got.sa.headers['x-authorization-content-sha256']).toBe(hmacHex(SA_SECRET, got.sa.body));
    expect(got.posts.find((p) => p.method === 'chat.postMessage')!.auth).toBe(`Bearer ${BOT_TOKEN}`);
    expect(got.run.secrets).toEqual({ TOKEN: ACTION_SECRET });
    // And a key that opens nothing here is refused at start, with the reason.
    await expect(checkKeyring(api.store, keyring(keyA))).rejects.toThrow(/LABELCAST_SECRET_KEY/);
  });

  it('seals plaintext rows left by an earlier version, once, and they keep working', { timeout: 60_000 }, async () => {
    const ring = api.svc.ring;
    const ch = (await api.call('POST', '/v1/notifications', { body: { title: 'legacy', triggers: ['project.status_changed'], channels: [{ type: 'webhook', url: `${rx.url}/legacy`, headers: { 'X-Old': 'old-plain-value-9a' } }] } })).body.channels[0];
    const legacySecret = 'whsec_' + crypto.randomBytes(24).toString('base64');
    // As an earlier version wrote it: everything in plaintext.
    await api.store.db.updateTable('channels').set({ secret: legacySecret, config: JSON.stringify({ url: `${rx.url}/legacy`, dialect: 'standard', headers: { 'X-Old': 'old-plain-value-9a' } }) }).where('id', '=', ch.id).execute();
    const legacySet = 'plain:' + Buffer.from(JSON.stringify({ TOKEN: 'legacy-action-7c' })).toString('base64');
    await api.store.db.updateTable('action_secrets').set({ sealed: legacySet }).where('name', '=', 'sdk').execute();
    expect(await rawDump(api, kind)).toContain('old-plain-value-9a');

    // Plaintext still reads before the step runs (a rolling upgrade).
    const view = (await api.call('GET', `/v1/channels/${ch.id}`)).body;
    expect(view.headers).toEqual({ 'X-Old': 'old-plain-value-9a' });
    const counts = await sealStoredSecrets(api.store, ring, { mode: 'plaintext' });
    expect(counts).toMatchObject({ sealed: 3, resealed: 0, unopenable: 0 });
    expect(await sealStoredSecrets(api.store, ring, { mode: 'plaintext' })).toMatchObject({ sealed: 0 });
    const raw = await api.store.db.selectFrom('channels').select(['secret', 'config']).where('id', '=', ch.id).executeTakeFirstOrThrow();
    expect(raw.secret).toMatch(/^v1:/);
    expect(raw.config).not.toContain('old-plain-value-9a');

    const before = rx.received.length;
    const beforeRuns = runs.length;
    await api.call('PATCH', `/v1/projects/${project}`, { body: { status: 'OnHold' } });
    const legacy = await waitFor(() => rx.received.slice(before).find((r) => r.path === '/legacy'), 'the legacy channel delivered', 15_000);
    expect(legacy.headers['x-old']).toBe('old-plain-value-9a');
    expect(new Webhook(legacySecret).verify(legacy.body, legacy.headers as Record<string, string>)).toBeTruthy();
    await waitFor(() => runs.length > beforeRuns, 'the action ran', 15_000);
    expect(runs[runs.length - 1]!.secrets).toEqual({ TOKEN: 'legacy-action-7c' });
  });

  it('seals a header value that only looks sealed, so it still opens and is sent as typed', async () => {
    const n = await api.call('POST', '/v1/notifications', { body: { title: 'odd', triggers: ['project.status_changed'], channels: [{ type: 'webhook', url: `${rx.url}/odd`, headers: { 'X-Odd': 'v1:a:b:c:d' } }] } });
    expect(n.status).toBe(201);
    const view = await api.call('GET', `/v1/channels/${n.body.channels[0].id}`);
    expect(view.status).toBe(200);
    expect(view.body.headers).toEqual({ 'X-Odd': 'v1:a:b:c:d' });
    const raw = await api.store.db.selectFrom('channels').select('config').where('id', '=', n.body.channels[0].id).executeTakeFirstOrThrow();
    expect(JSON.parse(raw.config).headers['X-Odd']).toMatch(new RegExp(`^v1:${api.svc.ring.current.id}:`));
  });
});
