// A custom action's runs (issue 13): each run is a delivery of the action's channel, and its
// record is the delivery's latest attempt. Statuses as seed 004 and the console show them:
// pending, running (the delivery is leased), succeeded, failed, expired (past its TTL).
import { sql, type Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import { inStatus } from '../store/delivery-states.js';
import type { AttemptTable, DeliveryTable } from '../store/schema.js';
import type { Ctx } from './context.js';
import { AppError, notFound } from '../model/errors.js';
import { iso, isoOrNull } from '../model/views.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageQuery } from './paging.js';
import { resendDelivery } from './deliveries.js';
import { loadAction } from './pipeline-actions.js';

export const RUN_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'expired'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunView {
  id: number;
  action: number;
  pipeline: number;
  status: RunStatus;
  trigger: string;
  /** {event, context} as the handler received it (null before the first attempt). */
  input: unknown;
  /** The JSON return value, or {error: {message, traceback}}. */
  output: unknown;
  error: string | null;
  logs: string | null;
  duration_ms: number | null;
  attempts: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function runStatus(d: Selectable<DeliveryTable>): RunStatus {
  if (d.status === 'sending') return 'running';
  if (d.status === 'succeeded' || d.status === 'expired' || d.status === 'pending') return d.status;
  return 'failed';
}

const parse = (s: string | null): unknown => {
  if (s === null || s === '') return null;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
};

function runView(d: Selectable<DeliveryTable>, a: Selectable<AttemptTable> | undefined): RunView {
  return {
    id: d.id,
    action: d.channel_id,
    pipeline: d.notification_id,
    status: runStatus(d),
    trigger: d.event_type,
    input: a ? parse(a.request_body) : null,
    output: a ? parse(a.response_body) : null,
    error: d.status === 'succeeded' ? null : d.last_error,
    logs: a?.logs ?? null,
    duration_ms: a ? Math.round(a.latency_ms) : null,
    attempts: d.attempt_count,
    created_at: iso(d.created_at),
    started_at: a ? iso(a.started_at) : null,
    finished_at: isoOrNull(d.completed_at),
  };
}

async function latestAttempts(db: Db, ids: number[]) {
  if (ids.length === 0) return new Map<number, Selectable<AttemptTable>>();
  const rows = await db.selectFrom('attempts').selectAll().where('delivery_id', 'in', ids).orderBy('id').execute();
  return new Map(rows.map((r) => [r.delivery_id, r]));
}

export async function listRuns(db: Db, orgId: number, actionId: number, q: PageQuery & { status?: RunStatus | undefined }): Promise<Page<RunView>> {
  const action = await loadAction(db, orgId, actionId);
  if (action.kind !== 'action') throw new AppError('validation_failed', `Action ${actionId} is not a custom action; runs belong to custom actions (see GET /v1/deliveries for the others).`);
  const limit = pageLimit(q);
  let query = db.selectFrom('deliveries').selectAll().where('channel_id', '=', actionId);
  // Newest first, as a run history reads; the cursor is the last id seen.
  if (q.cursor) query = query.where('id', '<', decodeCursor(q.cursor));
  // A live status (pending, running) is read through its partial index (migration 0008),
  // sorted afterwards: `+id` stops SQLite walking the action's whole history newest first.
  const live = q.status === 'pending' ? 'pending' : q.status === 'running' ? 'sending' : null;
  if (live) query = inStatus(query, live);
  else if (q.status) query = query.where('status', 'in', q.status === 'failed' ? ['failed', 'cancelled'] : [q.status]);
  const rows = await query.orderBy(live ? sql`+id` : sql`id`, 'desc').limit(limit + 1).execute();
  const attempts = await latestAttempts(db, rows.slice(0, limit).map((r) => r.id));
  return toPage(rows, limit, (d) => runView(d, attempts.get(d.id)));
}

export async function getRun(db: Db, orgId: number, actionId: number, runId: number): Promise<RunView> {
  await loadAction(db, orgId, actionId);
  const d = await db.selectFrom('deliveries').selectAll().where('channel_id', '=', actionId).where('id', '=', runId).executeTakeFirst();
  if (!d) throw notFound('run', runId);
  return runView(d, (await latestAttempts(db, [runId])).get(runId));
}

/** Runs a finished run again with the same trigger: a resend of its delivery. */
export async function rerun(ctx: Ctx, actionId: number, runId: number): Promise<RunView> {
  await getRun(ctx.trx, ctx.actor.org_id, actionId, runId);
  await resendDelivery(ctx, runId);
  // Seed 004's TTL counts from when a run becomes pending: a rerun starts it afresh.
  await ctx.trx.updateTable('deliveries').set({ created_at: ctx.now }).where('id', '=', runId).execute();
  return getRun(ctx.trx, ctx.actor.org_id, actionId, runId);
}
