// The console end to end in a real headless Chromium against the real server: sign in, the
// seed's five-step creation (an email chip and a webhook), search, edit, delete, a stage
// webhook, a delivery's attempts and a resend, and the API's errors shown in the UI. The
// SQLite run also writes the screenshots docs/console.md shows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_KEY, launchBrowser, startConsoleServer, type ConsoleServer } from '../helpers/browser.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { KINDS } from '../helpers/stores.js';

// `npm run screenshots` refreshes docs/console/*.png; a plain test run still takes every
// screenshot (so a screen that cannot render fails here) but into a temporary folder, leaving
// the working tree clean.
const SHOTS = process.env.LABELCAST_SCREENSHOTS === '1' ? path.resolve('docs/console') : fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-shots-'));

async function until<T>(what: string, f: () => Promise<T | undefined | null | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(KINDS)('console in Chromium (%s)', (kind) => {
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  let receiver: Receiver;
  const shot = async (name: string) => {
    if (kind === 'sqlite') await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    [server, browser, receiver] = await Promise.all([startConsoleServer(kind), launchBrowser(), startReceiver()]);
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await server?.close();
  });

  it('signs in with an API key, showing the API error for a wrong one', async () => {
    await page.goto(server.url + '/');
    await page.getByLabel('API key').fill('lc_not_a_key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('unauthorized');
    await shot('sign-in');
    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('labelcast.apiKey'))).toBe(ADMIN_KEY);
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    await page.getByText('No notifications yet').waitFor();
  });

  it('creates a notification in five steps, with an email chip and a webhook; a failed save keeps what was typed', async () => {
    await page.getByRole('link', { name: '+ Create notification' }).click();
    await page.getByLabel('Title').fill('Reviewers: annotations finished');
    await page.getByLabel('Description (optional)').fill('Tell reviewers when work waits for them');
    await shot('create-1-details');
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('heading', { name: 'Add projects' }).waitFor();
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('heading', { name: 'Add channels' }).waitFor();
    await page.getByLabel('Add email address').fill('reviewer@example.com');
    await page.getByLabel('Add email address').press('Enter');
    const chips = page.getByRole('list', { name: 'Email recipients' });
    await expect.poll(() => chips.textContent()).toContain('reviewer@example.com');
    expect(await page.getByLabel('Add email address').inputValue()).toBe('');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByLabel('Webhook URL 1').fill(receiver.url + '/hook');
    await shot('create-3-channels');
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await page.getByRole('heading', { name: 'Add triggers' }).waitFor();
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    // No trigger chosen: the API refuses, the UI shows its message and code.
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('validation_failed');
    // Nothing typed is lost.
    await page.getByRole('button', { name: '1. Enter details' }).click();
    expect(await page.getByLabel('Title').inputValue()).toBe('Reviewers: annotations finished');
    await page.getByRole('button', { name: '4. Add triggers' }).click();
    await page.getByRole('checkbox', { name: 'Task submitted' }).check();
    await page.getByRole('checkbox', { name: 'Project created' }).check();
    await page.getByRole('button', { name: 'When does Task submitted fire?' }).click();
    await expect.poll(() => page.getByRole('note').textContent()).toContain('submits a task');
    await shot('create-4-triggers');
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await shot('create-5-create');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByRole('heading', { name: 'Notifications' }).waitFor();
    const row = page.getByRole('row', { name: /Reviewers: annotations finished/ });
    await expect.poll(() => row.textContent()).toMatch(/email \(1\).*webhook.*task\.submitted, project\.created/);
    const list = await server.api('GET', '/v1/notifications');
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0].channels.map((c: { type: string }) => c.type).sort()).toEqual(['email', 'webhook']);
  });

  it('filters by title as you type, edits through the same steps, and deletes after confirmation', async () => {
    const other = await server.api('POST', '/v1/notifications', { title: 'Managers daily digest', triggers: [{ digest: {} }], channels: [{ type: 'email', recipients: ['boss@example.com'] }] });
    expect(other.status).toBe(201);
    await page.reload();
    await page.getByRole('row', { name: /Managers daily digest/ }).waitFor();
    await page.getByLabel('Search notifications by title').fill('review');
    await until('the search to filter', async () => (await page.getByRole('row', { name: /Managers/ }).count()) === 0);
    expect(await page.getByRole('row', { name: /Reviewers/ }).count()).toBe(1);
    await shot('notifications');
    await page.getByLabel('Search notifications by title').fill('');

    const before = (await server.api('GET', '/v1/notifications?search=Reviewers')).body.data[0];
    const hook = before.channels.find((c: { type: string }) => c.type === 'webhook');
    await page.getByRole('link', { name: 'Edit Reviewers: annotations finished' }).click();
    await page.getByLabel('Title').fill('Reviewers: tasks submitted');
    await page.getByRole('button', { name: '3. Add channels' }).click();
    await page.getByLabel('Add email address').fill('lead@example.com');
    await page.getByLabel('Add email address').press('Enter');
    await page.getByRole('button', { name: '5. Create' }).click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('row', { name: /Reviewers: tasks submitted/ }).waitFor();
    const after = (await server.api('GET', `/v1/notifications/${before.id}`)).body;
    expect(after.title).toBe('Reviewers: tasks submitted');
    expect(after.channels.find((c: { type: string }) => c.type === 'email').recipients).toEqual(['reviewer@example.com', 'lead@example.com']);
    // The webhook was kept in place, not re-created.
    expect(after.channels.find((c: { type: string }) => c.type === 'webhook').id).toBe(hook.id);

    await page.getByRole('button', { name: 'Delete Managers daily digest' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete “Managers daily digest”?' });
    await dialog.waitFor();
    await shot('delete-confirm');
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await until('the row to go', async () => (await page.getByRole('row', { name: /Managers/ }).count()) === 0);
    expect((await server.api('GET', `/v1/notifications/${other.body.id}`)).status).toBe(404);
  });

  it("shows a delivery's attempts with masked headers, and resends it", async () => {
    const n = (await server.api('GET', '/v1/notifications')).body.data[0];
    const hook = n.channels.find((c: { type: string }) => c.type === 'webhook');
    expect((await server.api('PATCH', `/v1/channels/${hook.id}`, { headers: { authorization: 'Bearer receiver-secret-token' } })).status).toBe(200);
    const project = await server.api('POST', '/v1/projects', { title: 'Cats' });
    expect(project.status).toBe(201);
    await until('the webhook to arrive', async () => receiver.received.length >= 1);
    const delivery = await until('the delivery to succeed', async () => (await server.api('GET', `/v1/deliveries?channel_id=${hook.id}&status=succeeded`)).body.data[0]);

    await page.getByRole('link', { name: 'Deliveries', exact: true }).click();
    // Wait for the route: the notifications page's search box is also labelled "…Notification…".
    await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
    await page.getByRole('combobox', { name: 'Notification' }).selectOption(String(n.id));
    await page.getByLabel('Channel').selectOption(String(hook.id));
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('button', { name: 'Ping webhook' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/Ping queued as delivery \d+/);
    await until('the ping to arrive', async () => receiver.received.some((r) => r.body.includes('ping')));
    await shot('deliveries');
    await page.getByRole('link', { name: `Delivery ${delivery.id}` }).click();
    await page.getByRole('heading', { name: 'Attempt 1: success 200' }).waitFor();
    const headers = page.getByRole('table', { name: 'Attempt 1 request headers' });
    const text = (await headers.textContent()) ?? '';
    expect(text).toContain('Be****');
    expect(text).not.toContain('receiver-secret-token');
    expect(await page.getByLabel('Attempt 1 request body').textContent()).toContain('project.created');
    await page.getByRole('button', { name: 'Resend', exact: true }).click();
    await page.getByText('Queued to be sent again.').waitFor();
    await until('the resend to arrive', async () => receiver.received.length >= 2);
    await until('attempt 2 to show', async () => {
      await page.getByRole('button', { name: 'Refresh', exact: true }).click();
      return (await page.getByRole('heading', { name: 'Attempt 2: success 200' }).count()) === 1;
    });
    await shot('delivery');
  });

  it('adds a webhook URL to an Annotate stage in its pop-up, confirmed with Enter and saved explicitly', async () => {
    const project = (await server.api('GET', '/v1/projects')).body.data[0];
    await page.getByRole('link', { name: 'Projects', exact: true }).click();
    await page.getByRole('link', { name: project.title }).click();
    await page.getByRole('button', { name: /\(annotate stage\): configure webhooks/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Webhook URL (Enter to add)').fill(receiver.url + '/encord');
    await dialog.getByLabel('Webhook URL (Enter to add)').press('Enter');
    await expect.poll(() => dialog.getByRole('list', { name: 'Stage webhook URLs' }).textContent()).toContain('/encord');
    // Not saved until Save.
    const unsaved = (await server.api('GET', `/v1/projects/${project.id}/workflow`)).body;
    expect(unsaved.stages.find((s: { kind: string }) => s.kind === 'annotate').webhooks).toEqual([]);
    await shot('stage-webhooks');
    await dialog.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('button', { name: /annotate stage/ }).filter({ hasText: '1 webhook(s)' }).waitFor();
    const saved = (await server.api('GET', `/v1/projects/${project.id}/workflow`)).body;
    expect(saved.stages.find((s: { kind: string }) => s.kind === 'annotate').webhooks.map((w: { url: string }) => w.url)).toEqual([receiver.url + '/encord']);
  });

  it('re-enables a channel disabled by failures and recovers its failed deliveries', async () => {
    const n = (await server.api('GET', '/v1/notifications?search=Reviewers')).body.data[0];
    const hook = n.channels.find((c: { type: string }) => c.type === 'webhook');
    // 410 Gone: the delivery fails at once and the channel is disabled.
    receiver.behave((_r, _n, res) => res.writeHead(410).end());
    expect((await server.api('POST', `/v1/channels/${hook.id}/test`)).status).toBe(202);
    await until('the channel to be disabled', async () => (await server.api('GET', `/v1/channels/${hook.id}`)).body.health.state === 'disabled');
    receiver.behave((_r, _n, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
    const before = receiver.received.length;

    await page.goto(`${server.url}/deliveries?notification=${n.id}&channel=${hook.id}&status=failed`);
    await page.getByRole('button', { name: 'Re-enable channel' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Channel re-enabled');
    expect((await server.api('GET', `/v1/channels/${hook.id}`)).body.health.state).toBe('healthy');
    const d = new Date(Date.now() - 3_600_000);
    const pad = (x: number) => String(x).padStart(2, '0');
    await page.getByLabel('Recover failed since').fill(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`);
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('1 failed deliveries sent again');
    await until('the recovered ping to arrive', async () => receiver.received.length > before);
  });

  it('creates a secret set and a manual pipeline with a custom action, runs it now, and shows the run as the API records it', async () => {
    await page.getByRole('link', { name: 'Secrets', exact: true }).click();
    await page.getByLabel('Set name').fill('crm');
    await page.getByLabel('Name 1').fill('API_KEY');
    await page.getByLabel('Value 1').fill('sk-console-test-value');
    await page.getByRole('button', { name: 'Save secret set' }).click();
    await page.getByRole('cell', { name: 'crm', exact: true }).waitFor();
    // Write-only: the value is gone from the page once saved, and the API returns key names only.
    expect(await page.content()).not.toContain('sk-console-test-value');
    expect((await server.api('GET', '/v1/secrets')).body.data[0].keys).toEqual(['API_KEY']);
    await shot('secrets');

    await page.getByRole('link', { name: 'Pipelines', exact: true }).click();
    await page.getByRole('heading', { name: 'Pipelines', exact: true }).waitFor();
    await page.getByLabel('Name').fill('Manual export');
    await page.getByLabel('Trigger', { exact: true }).selectOption('manual');
    await page.getByLabel('Action', { exact: true }).selectOption('custom_action');
    await page.getByLabel('Language').selectOption('javascript');
    await page.getByLabel(/^Code/).fill('function handler(event, context) {\n  console.log("team", event.team);\n  return { got: context.hello, team: event.team };\n}\n');
    await page.getByLabel('Secret set to mount').selectOption('crm');
    // A bad JSON is refused in the page, keeping what was typed.
    await page.getByLabel(/^Custom arguments/).fill('{team: cats}');
    await page.getByRole('button', { name: 'Add pipeline' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid JSON');
    expect(await page.getByLabel(/^Code/).inputValue()).toContain('return { got: context.hello');
    // An API error (a periodic trigger with an impossible schedule) shows its message and
    // code, still keeping the form.
    await page.getByLabel(/^Custom arguments/).fill('{"team": "cats"}');
    await page.getByLabel(/^TTL/).fill('600');
    await page.getByLabel('Trigger', { exact: true }).selectOption('periodic');
    await page.getByLabel(/^Cron schedule/).fill('61 * * * *');
    await page.getByRole('button', { name: 'Add pipeline' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('validation_failed');
    expect(await page.getByRole('alert').textContent()).toContain('periodic schedule is not valid');
    expect(await page.getByLabel('Name').inputValue()).toBe('Manual export');
    expect(await page.getByLabel(/^Code/).inputValue()).toContain('return { got: context.hello');
    await page.getByLabel('Trigger', { exact: true }).selectOption('manual');
    await page.getByRole('button', { name: 'Add pipeline' }).click();
    await page.getByRole('cell', { name: 'Manual export', exact: true }).waitFor();
    const pipeline = (await server.api('GET', '/v1/pipelines')).body.data.find((p: { name: string }) => p.name === 'Manual export');
    const action = pipeline.actions[0];
    expect(action).toMatchObject({ type: 'custom_action', language: 'javascript', secret: 'crm', args: { team: 'cats' }, ttl_s: 600 });
    await page.getByRole('row', { name: /Manual export/ }).getByText('Custom action (JavaScript)').waitFor();
    await shot('pipelines');

    await page.getByRole('link', { name: 'Manual export', exact: true }).click();
    await page.getByRole('heading', { name: 'Manual export' }).waitFor();
    await page.getByLabel(/^Event body/).fill('{"hello": "world"}');
    await page.getByRole('button', { name: 'Run now' }).click();
    await page.getByText('Started 1 run(s)').waitFor();
    await shot('pipeline-detail');

    await page.getByRole('link', { name: `Runs of action ${action.id}` }).click();
    await page.getByRole('heading', { name: `Runs of action ${action.id}` }).waitFor();
    // Whatever the server's runner does (succeeds, or fails when none is configured), the
    // console must show the run exactly as the API recorded it.
    const run = await until('the run to finish', async () => {
      const r = (await server.api('GET', `/v1/actions/${action.id}/runs`)).body.data[0];
      return r && !['pending', 'running'].includes(r.status) ? r : undefined;
    }, 60_000);
    const row = page.getByRole('row', { name: new RegExp(`Run ${run.id}\\b`) });
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain(run.status);
    await row.getByRole('button', { name: `Run ${run.id}` }).click();
    await expect.poll(() => page.getByTestId('run-status').textContent()).toBe(run.status);
    const shown = (v: unknown) => (v === null || v === undefined ? '—' : JSON.stringify(v, null, 2));
    expect(await page.getByTestId('run-input').textContent()).toBe(shown(run.input));
    expect(await page.getByTestId('run-error').textContent()).toBe(run.error ?? '—');
    expect(await page.getByTestId('run-logs').textContent()).toBe(run.logs || '—');
    expect(await page.getByTestId('run-output').textContent()).toBe(shown(run.output));
    expect(await page.content()).not.toContain('sk-console-test-value');
    // The status filter asks the API for that status only.
    const other = run.status === 'failed' ? 'succeeded' : 'failed';
    await page.getByLabel('Status', { exact: true }).selectOption(other);
    await page.getByText(`No runs with status ${other}.`).waitFor();
    await page.getByLabel('Status', { exact: true }).selectOption(run.status);
    await page.getByRole('button', { name: `Run ${run.id}` }).waitFor();
    await shot('action-runs');
    await page.getByRole('button', { name: 'Rerun' }).click();
    // A rerun queues the same run again (same id, one more attempt), as the API does.
    await page.getByText(`Rerun started: run ${run.id}.`).waitFor();
    const again = await until('the rerun to finish', async () => {
      const r = (await server.api('GET', `/v1/actions/${action.id}/runs/${run.id}`)).body;
      return r.attempts > run.attempts && !['pending', 'running'].includes(r.status) ? r : undefined;
    }, 60_000);
    await expect.poll(() => page.getByTestId('run-status').textContent(), { timeout: 10_000 }).toBe(again.status);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('heading', { name: `Runs of action ${action.id}` }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows the other screens, readable at 390 pixels, and signs out', async () => {
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByLabel('URL').fill(receiver.url + '/ls');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByRole('cell', { name: receiver.url + '/ls', exact: true }).waitFor();
    await shot('webhooks');
    await page.getByRole('link', { name: 'Pipelines', exact: true }).click();
    await page.getByLabel('Name').fill('Export when completed');
    await page.getByLabel('Trigger', { exact: true }).selectOption('project.status_changed');
    await page.getByLabel('Action', { exact: true }).selectOption('send_webhook');
    await page.getByLabel('Send webhook to').fill(receiver.url + '/sa');
    await page.getByLabel(/^Secret/).fill('short');
    await page.getByRole('button', { name: 'Add pipeline' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('validation_failed');
    expect(await page.getByLabel('Name').inputValue()).toBe('Export when completed');
    await page.getByLabel(/^Secret/).fill('a-longer-secret');
    await page.getByRole('button', { name: 'Add pipeline' }).click();
    await page.getByRole('cell', { name: 'Export when completed', exact: true }).waitFor();
    await page.getByRole('link', { name: 'Activity', exact: true }).click();
    await page.getByRole('heading', { name: 'Email outbox' }).waitFor();
    // The attempts so far (the event, its resend, the pings), all in the last hours' chart.
    const chart = page.getByRole('img', { name: /Deliveries per minute/ });
    await expect.poll(() => chart.getAttribute('aria-label')).toMatch(/: ([3-9]|\d{2,}) attempts/);
    await page.getByText('The outbox is empty').or(page.locator('.outbox')).first().waitFor();
    await shot('activity');

    await page.setViewportSize({ width: 390, height: 844 });
    for (const link of ['Notifications', 'Deliveries']) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: link }).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth), link).toBeLessThanOrEqual(390);
    }
    await page.getByRole('link', { name: 'Notifications', exact: true }).click();
    await page.getByRole('row', { name: /Reviewers/ }).waitFor();
    await shot('notifications-390');
    await page.setViewportSize({ width: 1280, height: 800 });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('labelcast.apiKey'))).toBeNull();
  });
});
