// Labels (Label Studio annotations, Encord label rows). Every add and edit records who did
// it and how long it took in milliseconds as an activity row; the digest's avg_time_for_add,
// avg_time_for_edit and total_add_or_edit_time (seed 000) are computed from those rows.
import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { LabelTable } from '../store/schema.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError, notFound } from '../model/errors.js';
import { emit } from './events.js';
import { newHash } from '../model/ids.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageQuery } from './paging.js';
import { loadTask } from './tasks.js';
import { resolveActingUser } from './users.js';
import { type ActivityView, type LabelView } from '../model/views.js';
import { activityView, labelView } from './views.js';

export interface NewLabel {
  result: unknown[];
  /** Seconds spent, Label Studio's lead_time. */
  lead_time?: number | undefined;
  /** Milliseconds this add took; defaults to lead_time in ms. */
  time_ms?: number | undefined;
  was_cancelled?: boolean | undefined;
  ground_truth?: boolean | undefined;
  /** Acting annotator, when an admin or manager records work on someone's behalf. */
  completed_by?: number | undefined;
}

export interface LabelPatch {
  result?: unknown[] | undefined;
  lead_time?: number | undefined;
  time_ms?: number | undefined;
  was_cancelled?: boolean | undefined;
  ground_truth?: boolean | undefined;
  /** Acting editor, when an admin or manager records work on someone's behalf. */
  edited_by?: number | undefined;
}

function durations(leadTime: number | undefined, timeMs: number | undefined): { ms: number; seconds: number } {
  if (timeMs !== undefined) return { ms: timeMs, seconds: leadTime ?? timeMs / 1000 };
  const seconds = leadTime ?? 0;
  return { ms: Math.round(seconds * 1000), seconds };
}

/** is_labeled follows Label Studio with maximum_annotations = 1: any kept, non-skipped label. */
async function refreshIsLabeled(ctx: Ctx, taskId: number): Promise<void> {
  const any = await ctx.trx
    .selectFrom('labels')
    .select('id')
    .where('task_id', '=', taskId)
    .where('was_cancelled', '=', 0)
    .limit(1)
    .executeTakeFirst();
  await ctx.trx.updateTable('tasks').set({ is_labeled: any ? 1 : 0, updated_at: ctx.now }).where('id', '=', taskId).execute();
}

async function loadLabel(ctx: Ctx | { trx: Db; store?: undefined }, orgId: number, id: number): Promise<Selectable<LabelTable>> {
  let q = ctx.trx.selectFrom('labels').selectAll().where('org_id', '=', orgId).where('id', '=', id);
  if (ctx.store) q = ctx.store.forUpdate(q);
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('label', id);
  return row;
}

export async function createLabel(ctx: Ctx, taskId: number, input: NewLabel): Promise<LabelView> {
  requireRole(ctx.actor, CAN.annotate, 'add labels');
  const t = await loadTask(ctx, ctx.actor.org_id, taskId);
  if (t.stage.kind !== 'annotate') {
    throw new AppError('invalid_state', `Task ${taskId} is in the ${t.stage.kind} stage; labels are added in the annotate stage.`);
  }
  const who = await resolveActingUser(ctx, input.completed_by);
  const d = durations(input.lead_time, input.time_ms);
  const row = await ctx.trx
    .insertInto('labels')
    .values({
      org_id: ctx.actor.org_id,
      project_id: t.row.project_id,
      task_id: taskId,
      label_hash: newHash(),
      result: JSON.stringify(input.result),
      created_by: who.id,
      lead_time: d.seconds,
      was_cancelled: input.was_cancelled ? 1 : 0,
      ground_truth: input.ground_truth ? 1 : 0,
      review_status: 'none',
      created_at: ctx.now,
      updated_at: ctx.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.trx
    .insertInto('activity')
    .values({ org_id: ctx.actor.org_id, project_id: t.row.project_id, task_id: taskId, label_id: row.id, user_id: who.id, subject_user_id: null, kind: 'label_add', duration_ms: d.ms, comment: null, occurred_at: ctx.now })
    .execute();
  await refreshIsLabeled(ctx, taskId);
  const view = labelView(row);
  await emit(ctx, {
    type: 'annotation.created',
    project_id: t.row.project_id,
    data: { label: view, task: { id: taskId, data_hash: t.row.data_hash } },
    after: view,
  });
  return view;
}

export async function updateLabel(ctx: Ctx, id: number, patch: LabelPatch): Promise<LabelView> {
  requireRole(ctx.actor, CAN.annotate, 'edit labels');
  const label = await loadLabel(ctx, ctx.actor.org_id, id);
  const t = await loadTask(ctx, ctx.actor.org_id, label.task_id);
  if (t.stage.kind === 'complete') {
    throw new AppError('invalid_state', `Task ${t.row.id} is complete; its labels can no longer be edited.`);
  }
  const who = await resolveActingUser(ctx, patch.edited_by);
  const d = durations(patch.lead_time, patch.time_ms);
  const row = await ctx.trx
    .updateTable('labels')
    .set({
      result: patch.result === undefined ? label.result : JSON.stringify(patch.result),
      // Label Studio accumulates lead_time across edits: it is the total time spent.
      lead_time: label.lead_time + d.seconds,
      was_cancelled: patch.was_cancelled === undefined ? label.was_cancelled : patch.was_cancelled ? 1 : 0,
      ground_truth: patch.ground_truth === undefined ? label.ground_truth : patch.ground_truth ? 1 : 0,
      updated_at: ctx.now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.trx
    .insertInto('activity')
    .values({ org_id: ctx.actor.org_id, project_id: label.project_id, task_id: label.task_id, label_id: id, user_id: who.id, subject_user_id: null, kind: 'label_edit', duration_ms: d.ms, comment: null, occurred_at: ctx.now })
    .execute();
  await refreshIsLabeled(ctx, label.task_id);
  const before = labelView(label);
  const after = labelView(row);
  await emit(ctx, {
    type: 'annotation.updated',
    project_id: label.project_id,
    // Seed 003: ANNOTATION_UPDATED's completed_by is "the user that updated the annotation".
    data: { label: after, task: { id: label.task_id, data_hash: t.row.data_hash }, updated_by: who.id },
    before,
    after,
  });
  return after;
}

export async function deleteLabel(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.annotate, 'delete labels');
  const label = await loadLabel(ctx, ctx.actor.org_id, id);
  const t = await loadTask(ctx, ctx.actor.org_id, label.task_id);
  if (t.stage.kind === 'complete') {
    throw new AppError('invalid_state', `Task ${t.row.id} is complete; its labels can no longer be deleted.`);
  }
  await ctx.trx.deleteFrom('labels').where('id', '=', id).execute();
  await refreshIsLabeled(ctx, label.task_id);
  await emit(ctx, {
    type: 'annotation.deleted',
    project_id: label.project_id,
    data: { labels: [{ id, label_hash: label.label_hash }], task: { id: label.task_id, data_hash: t.row.data_hash } },
    before: labelView(label),
  });
}

export async function getLabel(db: Db, orgId: number, id: number): Promise<LabelView> {
  return labelView(await loadLabel({ trx: db }, orgId, id));
}

export async function listLabels(db: Db, orgId: number, taskId: number, q: PageQuery): Promise<Page<LabelView>> {
  await loadTask({ trx: db }, orgId, taskId);
  const limit = pageLimit(q);
  const rows = await db.selectFrom('labels').selectAll().where('task_id', '=', taskId).where('id', '>', decodeCursor(q.cursor)).orderBy('id').limit(limit + 1).execute();
  return toPage(rows, limit, labelView);
}

/** The label's history: adds, edits, submissions and reviews, oldest first. */
export async function labelHistory(db: Db, orgId: number, id: number, q: PageQuery): Promise<Page<ActivityView>> {
  await loadLabel({ trx: db }, orgId, id);
  const limit = pageLimit(q);
  const rows = await db.selectFrom('activity').selectAll().where('label_id', '=', id).where('id', '>', decodeCursor(q.cursor)).orderBy('id').limit(limit + 1).execute();
  return toPage(rows, limit, activityView);
}
