// Issue 10 defect 5: secrets shown after creation. /v1/webhooks returned custom header
// values (Authorization: Token ...) to any member while /v1/notifications masked them, and
// the Slack OAuth `code` reached the server log with the callback URL.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { redactUrl } from '../../src/api/log.js';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

const CREDENTIAL = 'Token s3cr3t-value-never-shown';

describe.each(KINDS)('custom header values are masked for every member on %s', (kind) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await setupApi(kind);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('masks /v1/webhooks exactly as /v1/notifications, for an annotator and the admin', async () => {
    const headers = { Authorization: CREDENTIAL, 'X-Plain': 'visible' };
    const hook = await api.call('POST', '/v1/webhooks', { body: { url: 'http://hooks.example.test/ls', headers } });
    expect(hook.status).toBe(201);
    const note = await api.call('POST', '/v1/notifications', { body: { title: 'n', triggers: ['all'], channels: [{ type: 'webhook', url: 'http://hooks.example.test/n', headers }] } });
    expect(note.status).toBe(201);
    const ann = (await api.call('POST', '/v1/users', { body: { email: 'ann-mask@a.test', name: 'Ann', role: 'annotator' } })).body;
    const annKey = (await api.call('POST', '/v1/api-keys', { body: { name: 'ann', user_id: ann.id } })).body.key;

    for (const key of [undefined, annKey]) {
      const hooks = await api.call('GET', '/v1/webhooks', key ? { key } : {});
      const one = await api.call('GET', `/v1/webhooks/${hook.body.id}`, key ? { key } : {});
      const notes = await api.call('GET', '/v1/notifications', key ? { key } : {});
      for (const r of [hooks, one, notes]) {
        expect(r.status).toBe(200);
        expect(JSON.stringify(r.body)).not.toContain('s3cr3t');
      }
      const listed = (hooks.body.data ?? hooks.body).find((h: any) => h.id === hook.body.id);
      const channel = (notes.body.data ?? notes.body).find((n: any) => n.id === note.body.id).channels[0];
      expect(listed.headers).toEqual(channel.headers);
      expect(listed.headers).toEqual({ Authorization: 'To****', 'X-Plain': 'visible' });
    }
    expect(JSON.stringify(hook.body)).not.toContain('s3cr3t');
  });
});

describe('the server log carries no credential', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await setupApi('sqlite');
  });
  afterAll(async () => {
    await api?.close();
  });

  it('redacts the OAuth code and state from logged URLs and the Authorization header', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const app = await buildApp({ svc: api.svc, metrics: api.metrics, logger: { level: 'trace', stream, serializers: {} } });
    try {
      await app.inject({ method: 'GET', url: '/v1/slack/oauth/callback?code=oauth-code-XYZ123&state=st-ABC987&error=access_denied' });
      await app.inject({ method: 'GET', url: '/v1/projects', headers: { authorization: `Bearer ${api.a.key}` } });
      app.log.info({ secret: 'whsec_logged', headers: { authorization: 'Token from-a-call' }, channel: { token: 'xoxb-bot', webhook_url: 'https://hooks.slack.com/services/T/B/X' } }, 'a call site logging a config');
    } finally {
      await app.close();
    }
    const log = lines.join('');
    expect(log).toContain('/v1/slack/oauth/callback?code=[redacted]&state=[redacted]&error=access_denied');
    for (const secret of ['oauth-code-XYZ123', 'st-ABC987', api.a.key, 'whsec_logged', 'from-a-call', 'xoxb-bot', 'hooks.slack.com']) expect(log).not.toContain(secret);
    expect(log).toContain('[redacted]');
  });

  it('redactUrl keeps harmless parameters', () => {
    expect(redactUrl('/v1/events?cursor=abc&limit=5')).toBe('/v1/events?cursor=abc&limit=5');
    expect(redactUrl('/x?Code=1&token=2&%ZZ=3')).toBe('/x?Code=[redacted]&token=[redacted]&%ZZ=[redacted]');
    expect(redactUrl('/x')).toBe('/x');
  });
});
