// The delivery path reads deliveries through indexes, never by scanning the table. Since
// migration 0008 the status indexes are partial (pending, sending and failed rows only), and a
// database uses a partial index only when the statement names its status as written: a
// status passed as a parameter would quietly turn the claim, the lease sweep or a channel's
// cancel into a scan of every delivery ever made. So every statement that touches deliveries
// while a real worker delivers, retries, dead-letters, recovers, sweeps leases, expires runs,
// reports metrics and activity, lists a custom action's runs and cancels is recorded here,
// and each one's plan is checked: on SQLite with EXPLAIN QUERY PLAN, on PostgreSQL with the
// generic plan (any parameter values) and sequential scans priced out. No plan may scan the
// deliveries table, and a statement that names a live status must read that status's partial
// index (falling back to another index would read the finished history too).
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
    // From the scenario only: the migrations ran their statements against the indexes of
    // their own time.
    let recording = false;
    const keep = (text: unknown) => {
      if (recording && typeof text === 'string' && /\bdeliveries\b/.test(text) && /^\s*(select|update|delete|with)\b/i.test(text)) texts.add(text);
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
    recording = true;
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
    expect((await api.call('GET', '/v1/activity')).status).toBe(200);
    const pipeline = await api.call('POST', '/v1/pipelines', { body: { name: 'runs', trigger: { event: 'manual' }, action: { type: 'custom_action', language: 'javascript', code: 'function handler(){}' } } });
    expect(pipeline.status).toBe(201);
    for (const status of ['running', 'pending', 'failed']) expect((await api.call('GET', `/v1/actions/${pipeline.body.action.id}/runs?status=${status}`)).status).toBe(200);
    expect((await api.call('DELETE', `/v1/notifications/${n.body.id}`)).status).toBe(204);
    await api.dispatcher?.stop();
    vi.restoreAllMocks();

    // Each path of the scenario, found by its statement's text whatever way the status is
    // written, and the partial index (migration 0008) it must read. The paths must all have
    // run (a rename would otherwise empty this test).
    const pending = /deliveries_(pending|due)\b/;
    const sending = /deliveries_sending\b/;
    const pendingOrSending = /deliveries_(pending|due|sending)\b/;
    const paths: Record<string, { text: RegExp; reads: RegExp }> = {
      claim: { text: /status = 'pending' and next_attempt_at <= /, reads: pending },
      inFlight: { text: /s\.status = 'sending'/, reads: sending },
      nextDue: { text: /min\(next_attempt_at\) as at from deliveries/, reads: pending },
      recover: { text: /^update "deliveries" .*"created_at" >= /s, reads: /deliveries_failed\b/ },
      sweep: { text: /^update "deliveries" .*"lease_until" <= /s, reads: sending },
      expire: { text: /^update "deliveries" .*"created_at" <= /s, reads: pendingOrSending },
      cancel: { text: /^update "deliveries" .*"channel_id" in /s, reads: pendingOrSending },
      backlog: { text: /min\("next_attempt_at"\)/, reads: pending },
      activityDue: { text: /\+org_id = \S+ and "status" = /, reads: pending },
      liveRuns: { text: /order by \+id desc/, reads: pendingOrSending },
    };
    for (const [name, { text }] of Object.entries(paths)) expect([...texts].some((t) => text.test(t)), `no statement of the ${name} path was recorded`).toBe(true);

    // And any statement that names a live status as a condition reads that status's index.
    const partial: Record<string, RegExp> = { pending, sending, failed: /deliveries_failed\b/ };
    const wrong: string[] = [];
    for (const text of texts) {
      const plan = await explain(api, text);
      const shown = `${text}\n  -> ${plan.join('\n     ')}`;
      if (plan.some((line) => (kind === 'sqlite' ? /^SCAN (deliveries|d|s)\b(?! USING)/.test(line) : /Seq Scan on deliveries/.test(line)))) wrong.push(`scans the table: ${shown}`);
      for (const [name, path] of Object.entries(paths)) {
        if (path.text.test(text) && !path.reads.test(plan.join('\n'))) wrong.push(`${name} does not read ${path.reads.source}: ${shown}`);
      }
      // A condition on the status (not `set status = ...` or a CASE over a computed status).
      for (const [, status] of text.matchAll(/\b(?:where|and)\s+(?:\w+\.)?"?status"? = '(pending|sending|failed)'/gi)) {
        if (!partial[status!]!.test(plan.join('\n'))) wrong.push(`names '${status}' but does not read its partial index: ${shown}`);
      }
    }
    expect(wrong).toEqual([]);
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
