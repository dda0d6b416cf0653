// command() (domain/context.ts): its transaction, and what it does around it.
// - PostgreSQL breaks a deadlock by aborting one of the transactions: a user's command that
//   meets one is run again rather than answered 500. The deadlock here is the one a worker's
//   claim can make with a notification's deletion: the claim locks the channel row, then its
//   deliveries; the deletion cancels the deliveries, then deletes the channel. (SQLite has
//   one writer: no deadlock there.)
// - The work it leaves for after its commit all runs, even when a part of it throws.
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

describe('a command that meets a deadlock on postgres', () => {
  let api: TestApi | null = null;
  let worker: pg.Client | null = null;
  afterEach(async () => {
    await worker?.end().catch(() => undefined);
    await api?.close();
    api = worker = null;
  });

  it('is run again and succeeds once the other transaction has its locks', { timeout: 20_000 }, async () => {
    api = await setupApi('postgres');
    const a = api;
    const project = (await a.call('POST', '/v1/projects', { body: { title: 'p' } })).body;
    const n = (await a.call('POST', '/v1/notifications', { body: { title: 'n', triggers: ['project.updated'], channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }] } })).body;
    const channelId = n.channels[0].id as number;
    expect((await a.call('PATCH', `/v1/projects/${project.id}`, { body: { description: 'one' } })).status).toBe(200);

    // A "claim" by hand, in the test's schema: the channel row first.
    worker = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await worker.connect();
    await worker.query(`set search_path to ${a.location}`);
    await worker.query('begin');
    await worker.query('select id from channels where id = $1 for no key update', [channelId]);

    // The deletion cancels the pending delivery (its row lock), then waits for the channel.
    const deleted = a.call('DELETE', `/v1/notifications/${n.id}`);
    await new Promise((r) => setTimeout(r, 200));
    // The claim now wants the delivery the deletion holds: a cycle. After deadlock_timeout
    // (1 s) PostgreSQL aborts one of the two; either way the deletion must end in 204.
    const claimed = worker.query("update deliveries set status = 'sending' where channel_id = $1 and status = 'pending'", [channelId]).then(
      async () => worker!.query('commit'),
      async (err: { code?: string }) => {
        await worker!.query('rollback');
        return err.code;
      },
    );
    const res = await deleted;
    const claimOutcome = await claimed;
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    // Whichever was aborted, nothing of the notification is left.
    expect(claimOutcome === undefined || claimOutcome === '40P01' || typeof claimOutcome === 'object').toBe(true);
    expect((await a.call('GET', `/v1/notifications/${n.id}`)).status).toBe(404);
  });
});

describe('the work a command leaves for after its commit', () => {
  it('all runs even when one part of it throws, and the first error is reported', async () => {
    const { command } = await import('../../src/domain/context.js');
    const ran: string[] = [];
    const store = { kind: 'sqlite', tx: async (fn: (trx: unknown) => Promise<unknown>) => fn({}) };
    const svc = { store } as never;
    const actor = { org_id: 1, user_id: 1, email: 'a@b.test', role: 'admin', api_key_id: null } as const;
    await expect(
      command(svc, actor, async (ctx) => {
        ctx.afterCommit.push(() => {
          ran.push('first');
          throw new Error('the first part failed');
        });
        ctx.afterCommit.push(() => void ran.push('second'));
        return 1;
      }),
    ).rejects.toThrow('the first part failed');
    expect(ran).toEqual(['first', 'second']);
  });
});
