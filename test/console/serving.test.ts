// The console is served by the API process: `/` and client routes get index.html (never
// cached, so a new build shows on reload), hashed assets are cached for a year, the API and
// its 404s are untouched, and a process without a built console says so instead of failing.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupApi, type TestApi } from '../helpers/api.js';

const html = { accept: 'text/html,application/xhtml+xml' };

describe('console serving', () => {
  let built: TestApi;
  let bare: TestApi;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lc-console-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console marker</title>');
    writeFileSync(join(dir, 'assets', 'index-AbC123.js'), 'console.log(1)');
    built = await setupApi('sqlite', { consoleDir: dir });
    bare = await setupApi('sqlite', { consoleDir: join(dir, 'missing') });
  });
  afterAll(async () => {
    await built.close();
    await bare.close();
  });

  it('serves index.html at / and at client routes, not cached', async () => {
    for (const url of ['/', '/notifications', '/deliveries/12?status=failed']) {
      const r = await built.call('GET', url, { key: '', headers: html });
      expect(r.status, url).toBe(200);
      expect(String(r.headers['content-type'])).toMatch(/text\/html/);
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.body).toContain('console marker');
    }
  });

  it('serves hashed assets with a long immutable cache, and 404 JSON for a missing one', async () => {
    const r = await built.call('GET', '/assets/index-AbC123.js', { key: '' });
    expect(r.status).toBe(200);
    expect(String(r.headers['cache-control'])).toMatch(/max-age=31536000.*immutable/);
    const missing = await built.call('GET', '/assets/nope.js', { key: '', headers: html });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('route_not_found');
  });

  it('leaves the API, its 404s and the docs alone', async () => {
    const unknown = await built.call('GET', '/v1/nothing-here', { headers: html });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('route_not_found');
    expect((await built.call('GET', '/v1/users/me')).status).toBe(200);
    const noPage = await built.call('GET', '/somewhere', { key: '', headers: { accept: 'application/json' } });
    expect(noPage.body.code).toBe('route_not_found');
    expect((await built.call('POST', '/notifications', { key: '', headers: html })).status).toBe(404);
    expect((await built.call('GET', '/docs/', { key: '' })).status).toBe(200);
  });

  it('answers / with a clear message when the console was not built', async () => {
    const r = await bare.call('GET', '/', { key: '', headers: html });
    expect(r.status).toBe(404);
    expect(r.body).toContain('The console has not been built. Run <code>npm run build</code>');
    const client = await bare.call('GET', '/notifications', { key: '', headers: html });
    expect(client.body).toContain('has not been built');
    expect((await bare.call('GET', '/v1/users/me')).status).toBe(200);
  });
});
