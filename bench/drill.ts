// npm run drill [-- --smoke]
// Fault drills: attack the delivery guarantees with real processes and print what survived.
// Per drill: accepted (events the API answered 2xx for), delivered (distinct events the
// receiver got), duplicates, dead-lettered, lost (accepted but never delivered nor
// dead-lettered: must be 0). Exits 1 if anything was lost or left stuck.
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { freshPgDatabase } from './harness.js';

const SMOKE = process.argv.includes('--smoke');
const KEY = 'lc_drill-admin-key-000000000';
const log = (s: string) => process.stderr.write(s + '\n');

interface Report {
  drill: string;
  accepted: number;
  delivered: number;
  duplicates: number;
  dead_lettered: number;
  lost: number;
  notes: string;
}
const reports: Report[] = [];

// ------------------------------------------------------------------ helpers
interface Rx {
  url: string;
  ids: string[];
  close(): Promise<void>;
}

async function receiver(behave: (n: number, res: http.ServerResponse) => void = (_n, res) => res.writeHead(200).end('ok')): Promise<Rx> {
  const rx: Rx = { url: '', ids: [], close: async () => undefined };
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      const id = String(req.headers['webhook-id'] ?? '');
      // Only a 2xx counts as delivered.
      res.on('finish', () => {
        if (res.statusCode >= 200 && res.statusCode < 300) rx.ids.push(id);
      });
      behave(n, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  rx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rx.close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return rx;
}

interface Proc {
  child: ChildProcess;
  url: string;
}

async function start(env: Record<string, string>, args: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { PATH: process.env.PATH ?? '', LABELCAST_ADMIN_KEY: KEY, LABELCAST_ALLOW_PRIVATE_TARGETS: 'true', LOG_LEVEL: 'fatal', LABELCAST_WEBHOOK_TIMEOUT: '2s', LABELCAST_POLL_INTERVAL: '200ms', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const on = (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (c) => reject(new Error(`labelcast exited (${c}) before listening: ${out}`)));
    setTimeout(() => reject(new Error(`labelcast did not start: ${out}`)), 30_000);
  });
  return { child, url };
}

function kill(p: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
    p.child.once('exit', () => resolve());
    p.child.kill(signal);
  });
}

async function api(base: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + p, { method, headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function waitUntil(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function allEvents(base: string, type: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = (await api(base, 'GET', `/v1/events?type=${type}&limit=500${cursor ? `&cursor=${cursor}` : ''}`)).body;
    ids.push(...page.data.map((e: any) => e.id));
    cursor = page.next_cursor;
  } while (cursor);
  return ids;
}

interface Counts {
  pending: number;
  sending: number;
  succeeded: number;
  failed: number;
  failedEvents: Set<string>;
}

async function statusCounts(base: string): Promise<Counts> {
  const counts: Counts = { pending: 0, sending: 0, succeeded: 0, failed: 0, failedEvents: new Set() };
  for (const s of ['pending', 'sending', 'succeeded', 'failed'] as const) {
    let cursor: string | null = null;
    do {
      const page: any = (await api(base, 'GET', `/v1/deliveries?status=${s}&limit=500${cursor ? `&cursor=${cursor}` : ''}`)).body;
      counts[s] += page.data.length;
      if (s === 'failed') for (const d of page.data) counts.failedEvents.add(d.event_id);
      cursor = page.next_cursor;
    } while (cursor);
  }
  return counts;
}

/** Produces events (project updates) with `parallel` clients until `total` were tried. */
function producer(getBase: () => string, projectId: number, total: number, parallel = 8) {
  let next = 0;
  let accepted = 0;
  let refused = 0;
  const run = async () => {
    while (next < total) {
      const i = next++;
      try {
        const r = await api(getBase(), 'PATCH', `/v1/projects/${projectId}`, { description: `drill ${i}` });
        if (r.status === 200) accepted++;
        else refused++;
      } catch {
        refused++;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const done = Promise.all(Array.from({ length: parallel }, run));
  return { done, stats: () => ({ accepted, refused }) };
}

function summarize(drill: string, committed: string[], rx: Rx, counts: Counts, accepted: number, notes: string): Report {
  const seen = new Set(rx.ids);
  // Lost: committed (so possibly accepted) yet neither delivered nor visibly dead-lettered.
  const lost = committed.filter((id) => !seen.has(id) && !counts.failedEvents.has(id)).length;
  const r = { drill, accepted, delivered: committed.filter((id) => seen.has(id)).length, duplicates: rx.ids.length - seen.size, dead_lettered: counts.failedEvents.size, lost, notes };
  reports.push(r);
  log(`${drill}: ${JSON.stringify(r)}`);
  return r;
}

// ------------------------------------------------------------------ drills
async function sigkillDrill(): Promise<void> {
  const total = SMOKE ? 1500 : 20_000;
  const kills = SMOKE ? 2 : 5;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-drill-'));
  const rx = await receiver();
  let proc = await start({ LABELCAST_DATA_DIR: dir });
  const project = (await api(proc.url, 'POST', '/v1/projects', { title: 'drill' })).body;
  await api(proc.url, 'POST', '/v1/notifications', { title: 'drill', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/k` }] });
  const prod = producer(() => proc.url, project.id, total);
  for (let k = 0; k < kills; k++) {
    await new Promise((r) => setTimeout(r, 500 + Math.random() * (SMOKE ? 800 : 2500)));
    await kill(proc);
    proc = await start({ LABELCAST_DATA_DIR: dir });
  }
  await prod.done;
  const committed = await allEvents(proc.url, 'project.updated');
  await waitUntil(() => {
    const seen = new Set(rx.ids);
    return committed.every((id) => seen.has(id));
  }, 60_000);
  summarize('SIGKILL x' + kills + ' (SQLite)', committed, rx, await statusCounts(proc.url), prod.stats().accepted, `${committed.length} committed; ${prod.stats().refused} requests cut by the kills`);
  await kill(proc);
  await rx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function postgresDrill(): Promise<void> {
  const total = SMOKE ? 1000 : 8000;
  const db = await freshPgDatabase();
  const rx = await receiver();
  const env = { DATABASE_URL: db.url };
  const apiProc = await start(env, ['--role', 'api']);
  const w1 = await start(env, ['--role', 'worker']);
  let w2 = await start(env, ['--role', 'worker']);
  const project = (await api(apiProc.url, 'POST', '/v1/projects', { title: 'pg drill' })).body;
  await api(apiProc.url, 'POST', '/v1/notifications', { title: 'drill', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/p` }] });
  const prod = producer(() => apiProc.url, project.id, total);
  await new Promise((r) => setTimeout(r, 1500));
  await kill(w2);
  let notes = 'one of two workers killed mid-run';
  const cluster = (() => {
    try {
      return fs.readdirSync('/etc/postgresql').sort().pop();
    } catch {
      return undefined;
    }
  })();
  if (!SMOKE && cluster) {
    await new Promise((r) => setTimeout(r, 1500));
    execSync(`pg_ctlcluster --skip-systemctl-redirect ${cluster} main restart`, { stdio: 'ignore' });
    notes += '; PostgreSQL restarted mid-run';
  }
  w2 = await start(env, ['--role', 'worker']);
  await prod.done;
  const committed = await allEvents(apiProc.url, 'project.updated');
  // A killed worker's leases expire after the timeout (2 s here) plus 10 s.
  await waitUntil(() => committed.every((id) => rx.ids.includes(id)), 90_000);
  summarize('PostgreSQL: worker killed' + (notes.includes('restarted') ? ', database restarted' : ''), committed, rx, await statusCounts(apiProc.url), prod.stats().accepted, notes);
  for (const p of [apiProc, w1, w2]) await kill(p);
  await rx.close();
  await db.drop();
}

async function flappingDrill(): Promise<void> {
  const total = SMOKE ? 300 : 3000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-drill-'));
  // 200, 500, no answer (timeout), connection reset, in turn.
  const rx = await receiver((n, res) => {
    const k = n % 4;
    if (k === 0) res.writeHead(200).end('ok');
    else if (k === 1) res.writeHead(500).end('flap');
    else if (k === 2) setTimeout(() => res.destroy(), 3000);
    else res.socket?.destroy();
  });
  const proc = await start({ LABELCAST_DATA_DIR: dir, LABELCAST_RETRY_SCHEDULE: '0,50ms,100ms,200ms', LABELCAST_WEBHOOK_TIMEOUT: '500ms' });
  const project = (await api(proc.url, 'POST', '/v1/projects', { title: 'flap' })).body;
  await api(proc.url, 'POST', '/v1/notifications', { title: 'flap', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/f` }] });
  const prod = producer(() => proc.url, project.id, total);
  await prod.done;
  const settled = await waitUntil(async () => {
    const c = await statusCounts(proc.url);
    return c.pending + c.sending === 0;
  }, 120_000);
  const counts = await statusCounts(proc.url);
  const committed = await allEvents(proc.url, 'project.updated');
  summarize('flapping receiver (200/500/timeout/reset)', committed, rx, counts, prod.stats().accepted, settled ? `all settled: ${counts.succeeded} delivered, ${counts.failed} dead-lettered, none stuck` : `STUCK: ${JSON.stringify(counts)}`);
  if (!settled) reports[reports.length - 1]!.lost = counts.pending + counts.sending;
  await kill(proc);
  await rx.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function diskFullDrill(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-full-'));
  try {
    execSync(`mount -t tmpfs -o size=24m tmpfs ${dir}`, { stdio: 'ignore' });
  } catch {
    reports.push({ drill: 'disk full (SQLite)', accepted: 0, delivered: 0, duplicates: 0, dead_lettered: 0, lost: 0, notes: 'skipped: this machine cannot mount a small tmpfs (needs root)' });
    return;
  }
  const rx = await receiver();
  const proc = await start({ LABELCAST_DATA_DIR: dir });
  try {
    const project = (await api(proc.url, 'POST', '/v1/projects', { title: 'full' })).body;
    await api(proc.url, 'POST', '/v1/notifications', { title: 'full', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/d` }] });
    // Fill the disk but for a sliver, then write until the database cannot grow.
    const filler = path.join(dir, 'filler');
    try {
      execSync(`dd if=/dev/zero of=${filler} bs=1M count=64`, { stdio: 'ignore' });
    } catch {
      /* dd stops when the disk is full: that is the point */
    }
    let accepted = 0;
    let unavailable = 0;
    let other = 0;
    const big = 'x'.repeat(8000);
    for (let i = 0; i < 4000 && unavailable < 20; i++) {
      const r = await api(proc.url, 'PATCH', `/v1/projects/${project.id}`, { description: `${i} ${big}` }).catch(() => ({ status: 0, body: null }));
      if (r.status === 200) accepted++;
      else if (r.status === 503 && r.body?.code === 'service_unavailable') unavailable++;
      else {
        other++;
        if (other === 1) log(`disk full: first other answer ${r.status} ${JSON.stringify(r.body)}`);
      }
    }
    // Space returns: the same process recovers without a restart.
    fs.rmSync(filler, { force: true });
    let after = 0;
    for (let i = 0; i < 20; i++) if ((await api(proc.url, 'PATCH', `/v1/projects/${project.id}`, { description: `after ${i}` })).status === 200) after++;
    accepted += after;
    const committed = await allEvents(proc.url, 'project.updated');
    await waitUntil(() => committed.every((id) => rx.ids.includes(id)), 60_000);
    summarize('disk full (SQLite)', committed, rx, await statusCounts(proc.url), accepted, `${unavailable} writes answered 503 service_unavailable while full, ${other} other errors; ${after}/20 accepted after space returned`);
    if (unavailable === 0 || after < 20) reports[reports.length - 1]!.notes += ' (EXPECTED 503s while full and recovery after)';
  } finally {
    await kill(proc);
    await rx.close();
    execSync(`umount ${dir}`, { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  log(`Labelcast fault drills (${SMOKE ? 'smoke' : 'full'})`);
  await sigkillDrill();
  await postgresDrill();
  await flappingDrill();
  await diskFullDrill();
  const w = Math.max(...reports.map((r) => r.drill.length));
  process.stdout.write(`\n${'drill'.padEnd(w)}  accepted  delivered  duplicates  dead-lettered  lost  notes\n`);
  for (const r of reports) {
    process.stdout.write(`${r.drill.padEnd(w)}  ${String(r.accepted).padStart(8)}  ${String(r.delivered).padStart(9)}  ${String(r.duplicates).padStart(10)}  ${String(r.dead_lettered).padStart(13)}  ${String(r.lost).padStart(4)}  ${r.notes}\n`);
  }
  const lost = reports.reduce((a, r) => a + r.lost, 0);
  process.stdout.write(`\n${JSON.stringify({ smoke: SMOKE, drills: reports, lost })}\n`);
  process.exit(lost === 0 ? 0 : 1);
}

main().catch((err) => {
  process.stderr.write(`drill failed: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
