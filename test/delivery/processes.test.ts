// Real processes: a Labelcast killed with SIGKILL mid-delivery and started again loses no
// accepted event; two worker processes on one PostgreSQL share the work and deliver each
// event once per channel; SIGTERM finishes requests in flight before exiting.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { api, freshDatabase, startChild, type Child } from '../helpers/process.js';
import { ok, startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function storage(kind: string): Promise<Record<string, string>> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-proc-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    return { LABELCAST_DATA_DIR: dir };
  }
  const db = await freshDatabase();
  cleanups.push(db.drop);
  return { DATABASE_URL: db.url };
}

async function child(env: Record<string, string>, args: string[] = []): Promise<Child> {
  const c = await startChild(env, args);
  cleanups.push(() => c.kill());
  return c;
}

async function receiver(delayMs: number): Promise<Receiver> {
  const rx = await startReceiver(async (r, n, res) => {
    await new Promise((x) => setTimeout(x, delayMs));
    ok(r, n, res);
  });
  cleanups.push(() => rx.close());
  return rx;
}

describe.each(KINDS)('a process killed mid-delivery on %s', (kind) => {
  it('loses no accepted event after SIGKILL and restart', { timeout: 60_000 }, async () => {
    const env = await storage(kind);
    const rx = await receiver(5);
    let proc = await child(env);
    const project = (await api(proc.url, 'POST', '/v1/projects', { title: 'crash' })).body;
    await api(proc.url, 'POST', '/v1/notifications', { title: 'all', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/hook`, max_in_flight: 4 }] });

    let accepted = 0;
    let next = 0;
    const total = 400;
    const produce = async (until: number) => {
      const workers = Array.from({ length: 8 }, async () => {
        while (next < until) {
          const i = next++;
          try {
            const res = await api(proc.url, 'PATCH', `/v1/projects/${project.id}`, { description: `change ${i}` });
            if (res.status === 200) accepted++;
          } catch {
            // The process died under this request: not accepted (it may still have
            // committed). This producer stops; the rest go to the restarted process.
            return;
          }
        }
      });
      await Promise.all(workers);
    };
    const first = produce(total / 2);
    await waitFor(() => rx.received.length >= 20, 'some deliveries before the kill');
    await proc.kill('SIGKILL');
    await first;
    proc = await child(env);
    await produce(total);

    const committed: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await api(proc.url, 'GET', `/v1/events?type=project.updated&limit=500${cursor ? `&cursor=${cursor}` : ''}`)).body;
      committed.push(...page.data.map((e: any) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(committed.length).toBeGreaterThanOrEqual(accepted);
    expect(accepted).toBeGreaterThan(total * 0.9);
    try {
      await waitFor(() => {
        const seen = new Set(rx.received.map((r) => r.headers['webhook-id']));
        return committed.every((id) => seen.has(id));
      }, 'every committed event at the receiver', 20_000);
    } catch (err) {
      const seen = new Set(rx.received.map((r) => r.headers['webhook-id']));
      const missing = committed.filter((id) => !seen.has(id));
      const res = await api(proc.url, 'GET', '/v1/deliveries?limit=500');
      if (!res.body?.data) throw new Error(`${missing.length} missing; deliveries: ${res.status} ${JSON.stringify(res.body)} ${proc.output.join('')}`);
      const ds = res.body.data.filter((d: any) => missing.includes(d.event_id));
      throw new Error(`${missing.length} of ${committed.length} missing; their deliveries: ${JSON.stringify(ds.slice(0, 3))} (${ds.length} found)`);
    }
    const ids = rx.received.map((r) => String(r.headers['webhook-id']));
    const duplicates = ids.length - new Set(ids).size;
    // At least once: a request cut by the kill may be sent again; far fewer than in flight.
    expect(duplicates).toBeLessThanOrEqual(8);
  });
});

describe('several processes on one PostgreSQL', () => {
  it('two workers share the work and deliver each event once per channel', async () => {
    const env = await storage('postgres');
    const rxA = await receiver(20);
    const rxB = await receiver(20);
    const apiProc = await child(env, ['--role', 'api']);
    const w1 = await child(env, ['--role', 'worker']);
    const w2 = await child(env, ['--role', 'worker']);
    expect((await fetch(`${w1.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${w1.url}/v1/projects`)).status).toBe(404);
    const project = (await api(apiProc.url, 'POST', '/v1/projects', { title: 'scale' })).body;
    const n = (await api(apiProc.url, 'POST', '/v1/notifications', {
      title: 'two',
      triggers: ['task.created'],
      channels: [{ type: 'webhook', url: `${rxA.url}/a` }, { type: 'webhook', url: `${rxB.url}/b` }],
    })).body;
    const events = 200;
    for (let i = 0; i < events; i += 10) {
      await Promise.all(Array.from({ length: 10 }, () => api(apiProc.url, 'POST', `/v1/projects/${project.id}/tasks`, { tasks: [{ data: {} }] })));
    }
    await waitFor(() => rxA.received.length >= events && rxB.received.length >= events, 'all deliveries', 30_000);
    await new Promise((r) => setTimeout(r, 300));
    for (const rx of [rxA, rxB]) {
      const ids = rx.received.map((r) => r.headers['webhook-id']);
      expect(ids).toHaveLength(events);
      expect(new Set(ids).size).toBe(events);
    }
    // Both workers took part.
    const workers = new Set<string>();
    const list = (await api(apiProc.url, 'GET', `/v1/deliveries?channel_id=${n.channels[0].id}&limit=500`)).body.data;
    for (const d of list.slice(0, 200)) {
      const full = (await api(apiProc.url, 'GET', `/v1/deliveries/${d.id}`)).body;
      for (const a of full.attempts) workers.add(a.worker);
    }
    expect(workers.size).toBe(2);
  });

  it("routes each event by the notifications another process committed, though each caches its routes", async () => {
    const env = await storage('postgres');
    const rx = await receiver(0);
    // Two API processes: "here" emits the events (and caches the organization's routes),
    // "there" changes the notifications.
    const here = await child(env, ['--role', 'all']);
    const there = await child(env, ['--role', 'api']);
    const project = (await api(here.url, 'POST', '/v1/projects', { title: 'routes' })).body;
    const first = (await api(there.url, 'POST', '/v1/notifications', { title: 'one', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/one` }] })).body;
    let n = 0;
    // How many deliveries "here" gave its next event.
    const update = async (): Promise<string[]> => {
      const res = await api(here.url, 'PATCH', `/v1/projects/${project.id}`, { description: `change ${n++}` });
      expect(res.status).toBe(200);
      const ev = (await api(here.url, 'GET', '/v1/events?type=project.updated&limit=500')).body.data.at(-1);
      const ds = (await api(here.url, 'GET', '/v1/deliveries?limit=500')).body.data.filter((d: any) => d.event_id === ev.id);
      return ds.map((d: any) => d.notification).sort();
    };
    expect(await update()).toEqual([first.id]);
    expect(await update()).toEqual([first.id]);
    const second = (await api(there.url, 'POST', '/v1/notifications', { title: 'two', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${rx.url}/two` }] })).body;
    expect(await update()).toEqual([first.id, second.id].sort());
    expect((await api(there.url, 'PATCH', `/v1/notifications/${first.id}`, { active: false })).status).toBe(200);
    expect(await update()).toEqual([second.id]);
    expect((await api(there.url, 'PATCH', `/v1/notifications/${second.id}`, { triggers: ['task.created'] })).status).toBe(200);
    expect(await update()).toEqual([]);
    expect((await api(there.url, 'DELETE', `/v1/notifications/${second.id}`)).status).toBe(204);
    expect((await api(there.url, 'PATCH', `/v1/notifications/${first.id}`, { active: true })).status).toBe(200);
    expect(await update()).toEqual([first.id]);
    await waitFor(() => rx.received.length >= 5, 'the routed deliveries', 10_000);
  });
});

describe('graceful shutdown', () => {
  it('finishes a request in flight on SIGTERM, records it, and exits 0', async () => {
    const env = await storage('sqlite');
    const rx = await receiver(800);
    const proc = await child(env);
    await api(proc.url, 'POST', '/v1/notifications', { title: 'slow', triggers: ['project.created'], channels: [{ type: 'webhook', url: `${rx.url}/slow` }] });
    await api(proc.url, 'POST', '/v1/projects', { title: 'p' });
    await waitFor(() => rx.received.length === 1, 'the request to start');
    const code = await proc.kill('SIGTERM');
    expect(code).toBe(0);
    // The attempt was recorded before exit: a restart finds it succeeded and sends nothing.
    const again = await child(env);
    const list = (await api(again.url, 'GET', '/v1/deliveries')).body.data;
    expect(list.map((d: any) => d.status)).toEqual(['succeeded']);
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.received).toHaveLength(1);
  });
});
