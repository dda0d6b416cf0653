// `labelcast demo`: a newcomer sees Labelcast work in a minute. It starts the server on a
// temporary SQLite file with a local receiver, creates a team, a project with a workflow and
// a notification with a signed webhook, plays a short annotation session, and prints every
// webhook as it arrives, verified with the standardwebhooks package.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from './config.js';
import { startServer } from './server.js';

const DEMO_KEY = 'lc_demo-admin-key-0123456789';

export async function runDemo(opts: { port?: string | undefined; exit: boolean }, out: (line: string) => void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-demo-'));
  let secret = '';
  const seen: string[] = [];
  let arrived = () => undefined as void;

  // The receiver a team would write: verify the signature, then act on the event.
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const msg = new Webhook(secret).verify(body, req.headers as Record<string, string>) as { type: string; data: Record<string, any> };
        seen.push(msg.type);
        out(`  webhook ✔ signature verified  ${msg.type.padEnd(22)} ${summarize(msg)}`);
        res.writeHead(204).end();
      } catch (err) {
        out(`  webhook ✘ rejected: ${(err as Error).message}`);
        res.writeHead(400).end();
      }
      arrived();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/labelcast`;

  const config = loadConfig(
    { ...process.env, LABELCAST_ADMIN_KEY: DEMO_KEY, LABELCAST_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', DATABASE_URL: '' },
    { port: opts.port ?? '0', host: '127.0.0.1', data: dir, role: 'all' },
  );
  const running = await startServer(config, () => undefined);
  const base = running.url;
  const call = async (key: string, method: string, p: string, body?: unknown) => {
    const res = await fetch(base + p, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const json = (await res.json().catch(() => null)) as any;
    if (!res.ok) throw new Error(`${method} ${p} -> ${res.status} ${JSON.stringify(json)}`);
    return json;
  };

  out(`Labelcast demo: server on ${base} (SQLite in ${dir}), receiver on ${hook}`);
  const ann = await call(DEMO_KEY, 'POST', '/v1/users', { email: 'ann@demo.test', name: 'Ann (annotator)', role: 'annotator' });
  const rev = await call(DEMO_KEY, 'POST', '/v1/users', { email: 'rey@demo.test', name: 'Rey (reviewer)', role: 'reviewer' });
  const annKey = (await call(DEMO_KEY, 'POST', '/v1/api-keys', { name: 'ann', user_id: ann.id })).key;
  const revKey = (await call(DEMO_KEY, 'POST', '/v1/api-keys', { name: 'rey', user_id: rev.id })).key;
  const project = await call(DEMO_KEY, 'POST', '/v1/projects', { title: 'Street scenes', description: 'Cars and pedestrians' });
  const n = await call(DEMO_KEY, 'POST', '/v1/notifications', {
    title: 'Pipeline: everything that moves',
    scope: { projects: [project.id] },
    triggers: ['task.created', 'annotation.created', 'task.submitted', 'review.rejected', 'review.accepted', 'task.completed'],
    channels: [{ type: 'webhook', url: hook, secret: true }],
  });
  secret = n.channels[0].secret;
  out(`Created project ${project.id} (annotate -> review -> complete) and notification ${n.id} with a signed webhook.\n`);
  out('Playing an annotation session:');

  const [t1] = (await call(DEMO_KEY, 'POST', `/v1/projects/${project.id}/tasks`, { tasks: [{ data: { image: 's3://demo/frame-001.jpg' } }, { data: { image: 's3://demo/frame-002.jpg' } }] })).tasks;
  const label = await call(annKey, 'POST', `/v1/tasks/${t1.id}/labels`, { result: [{ type: 'rectanglelabels', value: { x: 10, y: 20, width: 30, height: 40, rectanglelabels: ['Car'] } }], time_ms: 5200 });
  await call(annKey, 'POST', `/v1/tasks/${t1.id}/submit`, {});
  await call(revKey, 'POST', `/v1/labels/${label.id}/review`, { decision: 'reject', time_ms: 1400, comment: 'The box misses the mirror' });
  await call(annKey, 'PATCH', `/v1/labels/${label.id}`, { result: [{ type: 'rectanglelabels', value: { x: 9, y: 20, width: 33, height: 40, rectanglelabels: ['Car'] } }], time_ms: 2100 });
  await call(annKey, 'POST', `/v1/tasks/${t1.id}/submit`, {});
  await call(revKey, 'POST', `/v1/labels/${label.id}/review`, { decision: 'accept', time_ms: 900 });

  const expected = 7;
  const deadline = Date.now() + 15_000;
  while (seen.length < expected && Date.now() < deadline) await new Promise<void>((r) => ((arrived = r), setTimeout(r, 200)));
  out('');
  out(`${seen.length} webhooks delivered and verified. Look further with your admin key:`);
  out(`  curl -H 'Authorization: Bearer ${DEMO_KEY}' ${base}/v1/deliveries`);
  out(`  curl -H 'Authorization: Bearer ${DEMO_KEY}' ${base}/v1/events`);
  out(`  API docs: ${base}/docs`);

  const stop = async () => {
    await running.close();
    await new Promise<void>((r) => receiver.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (opts.exit) {
    await stop();
    if (seen.length < expected) throw new Error(`only ${seen.length} of ${expected} webhooks arrived`);
    return;
  }
  out('The server keeps running; press Ctrl-C to stop (the demo data is deleted).');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stop();
}

function summarize(msg: { type: string; data: Record<string, any> }): string {
  const d = msg.data;
  switch (msg.type) {
    case 'task.created':
      return `${d.tasks.length} tasks imported`;
    case 'annotation.created':
      return `label ${d.label.id} on task ${d.task.id} by user ${d.label.completed_by}`;
    case 'task.submitted':
      return `task ${d.task.id}: ${d.from_stage} -> ${d.to_stage}`;
    case 'review.rejected':
    case 'review.accepted':
      return `label ${d.label.id} by reviewer ${d.review.reviewer}${d.review.comment ? `: "${d.review.comment}"` : ''}`;
    case 'task.completed':
      return `task ${d.task.id} complete (labels ${d.labels.map((l: any) => l.id).join(', ')})`;
    default:
      return '';
  }
}
