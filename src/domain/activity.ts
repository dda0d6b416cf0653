// Delivery activity for the console's chart (issue 14): per minute, attempts by outcome and
// deliveries dead-lettered, and the backlog (deliveries created but not finished) at the end
// of each minute, so an operator sees a failing endpoint or a growing queue at a glance.
// Counted in SQL per minute, never by loading rows: a busy day holds millions of attempts.
import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../store/db.js';
import { inStatus } from '../store/delivery-states.js';

export const MINUTE = 60_000;
export const MAX_ACTIVITY_HOURS = 24;

export interface ActivityMinute {
  at: string;
  success: number;
  failure: number;
  dead_lettered: number;
  backlog: number;
}

export interface Activity {
  start: string;
  end: string;
  minutes: ActivityMinute[];
  /** Pending deliveries whose next attempt is due now (waiting for a worker). */
  due_now: number;
}

type Bucketed = { bucket: number | string | bigint; n: number | string | bigint };

export async function deliveryActivity(db: Db, orgId: number, hours: number, now = Date.now()): Promise<Activity> {
  const end = Math.floor(now / MINUTE) * MINUTE + MINUTE;
  const start = end - hours * 60 * MINUTE;
  const count = sql<number>`count(*)`;
  // better-sqlite3 binds numbers as REAL, so the division is cast back to a minute index; the
  // GROUP BY names the column by position because PostgreSQL compares the expression's
  // parameters by placeholder ($1 in SELECT, $3 in GROUP BY) and would call them different.
  const bucketOf = (col: string) => sql<number>`cast((${sql.ref(col)} - ${start}) / ${MINUTE} as integer)`;
  const first = sql<number>`1`;

  const attempts = await db
    .selectFrom('attempts as a')
    .innerJoin('deliveries as d', 'd.id', 'a.delivery_id')
    .where('d.org_id', '=', orgId)
    .where('a.started_at', '>=', start)
    .where('a.started_at', '<', end)
    .select([bucketOf('a.started_at').as('bucket'), 'a.outcome', count.as('n')])
    .groupBy([first, 'a.outcome'])
    .execute();
  // SQLite keeps no table statistics: given `org_id = ?` it reads deliveries_org, every
  // delivery the organization ever had, rather than the window's range (deliveries_created)
  // or the few failed or pending rows (partial indexes, migration 0008). `+org_id` keeps the
  // condition and rules that index out where a narrower one exists
  // (test/store/live-indexes.test.ts checks these plans).
  const narrow = sql<number>`+org_id`;
  const inWindow = (col: 'created_at' | 'completed_at', org: RawBuilder<number>, extra?: (qb: any) => any) => {
    let q = db.selectFrom('deliveries').where(org, '=', orgId).where(col, '>=', start).where(col, '<', end);
    if (extra) q = extra(q);
    return q.select([bucketOf(col).as('bucket'), count.as('n')]).groupBy(first).execute() as Promise<Bucketed[]>;
  };
  const [created, completed, dead] = await Promise.all([
    inWindow('created_at', narrow),
    // No index by completion time: the organization's own rows are the narrowest read.
    inWindow('completed_at', sql<number>`org_id`),
    inWindow('completed_at', narrow, (q) => inStatus(q, 'failed')),
  ]);
  // Outstanding when the window opens: created before it, not finished before it.
  const before = await db
    .selectFrom('deliveries')
    .where('org_id', '=', orgId)
    .where('created_at', '<', start)
    .where((eb) => eb.or([eb('completed_at', 'is', null), eb('completed_at', '>=', start)]))
    .select(count.as('n'))
    .executeTakeFirstOrThrow();
  const due = await inStatus(db.selectFrom('deliveries').where(narrow, '=', orgId), 'pending')
    .where('next_attempt_at', '<=', now)
    .select(count.as('n'))
    .executeTakeFirstOrThrow();

  const n = hours * 60;
  const minutes: ActivityMinute[] = Array.from({ length: n }, (_, i) => ({ at: new Date(start + i * MINUTE).toISOString(), success: 0, failure: 0, dead_lettered: 0, backlog: 0 }));
  for (const r of attempts) {
    const m = minutes[Number(r.bucket)];
    if (m) m[r.outcome === 'success' ? 'success' : 'failure'] += Number(r.n);
  }
  const add = (rows: Bucketed[], f: (i: number, v: number) => void) => {
    for (const r of rows) {
      const i = Number(r.bucket);
      if (i >= 0 && i < n) f(i, Number(r.n));
    }
  };
  const delta = new Array<number>(n).fill(0);
  add(created, (i, v) => (delta[i]! += v));
  add(completed, (i, v) => (delta[i]! -= v));
  add(dead, (i, v) => (minutes[i]!.dead_lettered += v));
  let backlog = Number(before.n);
  for (let i = 0; i < n; i++) {
    backlog += delta[i]!;
    minutes[i]!.backlog = backlog;
  }
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString(), minutes, due_now: Number(due.n) };
}
