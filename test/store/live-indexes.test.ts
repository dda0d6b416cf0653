// The delivery path reads deliveries through indexes, never by scanning the table. Since
// migration 0008 the status indexes are partial (pending, sending and failed rows only), and a
// database uses a partial index only when the statement names its status as written: a
// status passed as a parameter would quietly turn the claim, the lease sweep or a channel's
// cancel into a scan of every delivery ever made. So every statement that touches deliveries
// while a real worker delivers, retries, dead-letters, recovers, sweeps leases, expires runs,
// reports metrics and cancels is recorded here, and each one's plan is checked: on SQLite
// with EXPLAIN QUERY PLAN, on PostgreSQL with the generic plan (any parameter values) and
// sequential scans priced out, so a plan that still scans deliveries had no index to use.
import Database from 'better-sqlite3';
import { CompiledQuery, sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { startReceiver, waitFor, type Receiver } from '../helpers/receiver.js';
import { releaseExpired } from '../../src/store/queue/release.js';
import { expireRuns } from '../../src/store/queue/expire.js';

describe.each(KINDS)('statements on deliveries on %s', (kind) => {
  let api: TestApi | undefined;
  const receivers: Receiver[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    await api?.close();
    for (const r of receivers.splice(0)) await r.close();
  });

  it('use an index, whatever the status they ask for', async () => {
    const texts = new Set<string>();
    const keep = (text: unknown) => {
      if (typeof text === 'string' && /\bdeliveries\b/.test(text) && /^\s*(select|update|delete|with)\b/i.test(text)) texts.add(text);
    };
    if (kind === 'sqlite') {
      const prepare = Database.prototype.prepare;
      vi.spyOn(Database.prototype, 'prepare').mockImplementation(function (this: Database.Database, source: string) {
        keep(source);
        return prepare.call(this, source);
      });
    } else {
      const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
      vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
        keep(typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text);
        return query.apply(this, args);
      } as never);
    }

    const good = await startReceiver();
    const bad = await startReceiver((_r, _n, res) => res.writeHead(500).end());
    receivers.push(good, bad);
    api = await setupApi(kind, { worker: true });
    const project = (await api.call('POST', '/v1/projects', { body: { title: 'plans' } })).body;
    const n = await api.call('POST', '/v1/notifications', {
      body: { title: 'both', triggers: ['project.updated'], channels: [{ type: 'webhook', url: `${good.url}/ok` }, { type: 'webhook', url: `${bad.url}/no` }] },
    });
    expect(n.status).toBe(201);
    const [okChannel, badChannel] = n.body.channels.map((c: { id: number }) => c.id) as [number, number];
    for (let i = 0; i < 3; i++) expect((await api.call('PATCH', `/v1/projects/${project.id}`, { body: { description: `v${i}` } })).status).toBe(200);
    const count = async (channel: number, status: string) => (await api!.call('GET', `/v1/deliveries?channel_id=${channel}&status=${status}`)).body.data.length;
    await waitFor(async () => (await count(okChannel, 'succeeded')) === 3 && (await count(badChannel, 'failed')) === 3, 'three delivered, three dead-lettered');

    expect((await api.call('POST', `/v1/channels/${badChannel}/recover`, { body: { since: new Date(0).toISOString() } })).body.recovered).toBe(3);
    await releaseExpired(api.store, Date.now());
    await expireRuns(api.store.db, badChannel, 3_600_000, Date.now());
    await api.metrics.registry.metrics();
    expect((await api.call('DELETE', `/v1/notifications/${n.body.id}`)).status).toBe(204);
    await api.dispatcher?.stop();
    vi.restoreAllMocks();

    // What was recorded covers the paths named above (a rename would empty this test).
    const all = [...texts].join('\n');
    const paths = {
      claim: /status = 'pending' and next_attempt_at <= /,
      inFlight: /s\.status = 'sending'/,
      nextDue: /min\(next_attempt_at\)/,
      recover: /"created_at" >= /,
      sweep: /"lease_until" <= /,
      expire: /"created_at" <= /,
      backlog: /min\("next_attempt_at"\)/,
      cancel: /"channel_id" in /,
    };
    for (const path of Object.values(paths)) expect(all).toMatch(path);

    const scans: string[] = [];
    for (const text of texts) {
      const plan = await explain(api, text);
      if (plan.some((line) => (kind === 'sqlite' ? /^SCAN (deliveries|d|s)\b(?! USING)/.test(line) : /Seq Scan on deliveries/.test(line)))) scans.push(`${text}\n  -> ${plan.join('\n     ')}`);
    }
    expect(scans).toEqual([]);
  });
});

async function explain(api: TestApi, text: string): Promise<string[]> {
  if (api.store.kind === 'sqlite') {
    const params = (text.match(/\?/g) ?? []).map(() => null);
    const rows = (await api.store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${text}`, params))).rows;
    return rows.map((r) => r.detail);
  }
  const n = Math.max(0, ...[...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  return api.store.db.connection().execute(async (db) => {
    await sql`set plan_cache_mode = force_generic_plan`.execute(db);
    await sql`set enable_seqscan = off`.execute(db);
    await sql.raw(`prepare lc_plan as ${text}`).execute(db);
    try {
      const args = n ? `(${Array.from({ length: n }, () => 'null').join(', ')})` : '';
      const rows = (await sql.raw<{ 'QUERY PLAN': string }>(`explain execute lc_plan${args}`).execute(db)).rows;
      return rows.map((r) => r['QUERY PLAN']);
    } finally {
      await sql`deallocate lc_plan`.execute(db);
      await sql`reset plan_cache_mode`.execute(db);
      await sql`reset enable_seqscan`.execute(db);
    }
  });
}
