// How a task moves through its workflow (issue 2, "transitions"; seed 000 "Task completed":
// "whenever the last label has been approved or a task has been completed without reviews
// being required"):
//   annotate --submit--> review            (workflow with a review stage)
//   annotate --submit--> complete          (no review stage)
//   review   --a label rejected--> annotate
//   review   --last label accepted--> complete
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError, notFound } from '../model/errors.js';
import { emit } from './events.js';
import { loadTask, stageOf, type LoadedTask } from './tasks.js';
import { resolveActingUser } from './users.js';
import { type LabelView, type TaskView } from '../model/views.js';
import { labelView, taskView } from './views.js';

type LabelRef = { id: number; label_hash: string; completed_by: number };

async function taskLabels(ctx: Ctx, taskId: number) {
  return ctx.trx.selectFrom('labels').selectAll().where('task_id', '=', taskId).orderBy('id').execute();
}

async function moveTask(ctx: Ctx, t: LoadedTask, kind: 'annotate' | 'review' | 'complete'): Promise<{ before: TaskView; after: TaskView }> {
  const target = stageOf(t.stages, kind)!;
  const before = taskView(t.row, t.stage);
  const row = await ctx.trx
    .updateTable('tasks')
    .set({ stage_id: target.id, updated_at: ctx.now })
    .where('id', '=', t.row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { before, after: taskView(row, target) };
}

function emitCompleted(ctx: Ctx, projectId: number, before: TaskView, after: TaskView, labels: LabelRef[]) {
  return emit(ctx, { type: 'task.completed', project_id: projectId, data: { task: after, labels }, before, after });
}

export interface SubmitInput {
  time_ms?: number | undefined;
  /** Acting annotator, when an admin or manager records work on someone's behalf. */
  submitted_by?: number | undefined;
}

export async function submitTask(ctx: Ctx, taskId: number, input: SubmitInput): Promise<TaskView> {
  requireRole(ctx.actor, CAN.annotate, 'submit tasks');
  const t = await loadTask(ctx, ctx.actor.org_id, taskId);
  if (t.stage.kind !== 'annotate') {
    throw new AppError('invalid_state', `Task ${taskId} is in the ${t.stage.kind} stage; only tasks in the annotate stage can be submitted.`);
  }
  const labels = await taskLabels(ctx, taskId);
  if (labels.length === 0) {
    throw new AppError('invalid_state', `Task ${taskId} has no labels; add at least one label (or a skipped one, was_cancelled: true) before submitting.`);
  }
  const who = await resolveActingUser(ctx, input.submitted_by);
  const review = stageOf(t.stages, 'review');
  // Labels already accepted in an earlier round stay accepted; the rest go (back) to review.
  const toReview = labels.filter((l) => l.review_status !== 'accepted');
  if (review && toReview.length > 0) {
    await ctx.trx.updateTable('labels').set({ review_status: 'pending', updated_at: ctx.now }).where('id', 'in', toReview.map((l) => l.id)).execute();
  }
  // One activity row per label: AnnotatorStats.submitted_labels counts labels, not tasks.
  // The time spent on the submission itself is recorded once, on the first label's row.
  await ctx.trx
    .insertInto('activity')
    .values(
      labels.map((l, i) => ({
        org_id: ctx.actor.org_id,
        project_id: t.row.project_id,
        task_id: taskId,
        label_id: l.id,
        user_id: who.id,
        subject_user_id: l.created_by,
        kind: 'label_submit',
        duration_ms: i === 0 ? (input.time_ms ?? 0) : 0,
        comment: null,
        occurred_at: ctx.now,
      })),
    )
    .execute();
  const refs: LabelRef[] = labels.map((l) => ({ id: l.id, label_hash: l.label_hash, completed_by: l.created_by }));
  const goesToReview = review !== undefined && toReview.length > 0;
  const { before, after } = await moveTask(ctx, t, goesToReview ? 'review' : 'complete');
  await emit(ctx, {
    type: 'task.submitted',
    project_id: t.row.project_id,
    data: { task: after, labels: refs, submitted_by: who.id, from_stage: before.stage.kind, to_stage: after.stage.kind },
    before,
    after,
  });
  if (!goesToReview) await emitCompleted(ctx, t.row.project_id, before, after, refs);
  return after;
}

export interface ReviewInput {
  decision: 'accept' | 'reject';
  time_ms?: number | undefined;
  comment?: string | undefined;
  /** Acting reviewer, when an admin or manager records work on someone's behalf. */
  reviewer?: number | undefined;
}

export async function reviewLabel(ctx: Ctx, labelId: number, input: ReviewInput): Promise<{ label: LabelView; task: TaskView }> {
  requireRole(ctx.actor, CAN.review, 'review labels');
  const found = await ctx.trx.selectFrom('labels').select('task_id').where('org_id', '=', ctx.actor.org_id).where('id', '=', labelId).executeTakeFirst();
  if (!found) throw notFound('label', labelId);
  // Lock the task first: all decisions on one task serialize, so "the last label accepted"
  // is decided once even when two reviewers answer at the same moment.
  const t = await loadTask(ctx, ctx.actor.org_id, found.task_id);
  const label = await ctx.trx.selectFrom('labels').selectAll().where('id', '=', labelId).executeTakeFirstOrThrow();
  if (t.stage.kind !== 'review' || label.review_status !== 'pending') {
    throw new AppError(
      'invalid_state',
      `Label ${labelId} is not waiting for review (task stage: ${t.stage.kind}, label review_status: ${label.review_status}).`,
    );
  }
  const reviewer = await resolveActingUser(ctx, input.reviewer);
  const accepted = input.decision === 'accept';
  const updated = await ctx.trx
    .updateTable('labels')
    .set({ review_status: accepted ? 'accepted' : 'rejected', updated_at: ctx.now })
    .where('id', '=', labelId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.trx
    .insertInto('activity')
    .values({
      org_id: ctx.actor.org_id,
      project_id: label.project_id,
      task_id: label.task_id,
      label_id: labelId,
      user_id: reviewer.id,
      subject_user_id: label.created_by,
      kind: accepted ? 'review_accept' : 'review_reject',
      duration_ms: input.time_ms ?? 0,
      comment: input.comment ?? null,
      occurred_at: ctx.now,
    })
    .execute();

  let task = taskView(t.row, t.stage);
  if (!accepted) {
    // A rejection sends the whole task back to its annotator.
    task = (await moveTask(ctx, t, 'annotate')).after;
  }
  const review = { decision: input.decision, reviewer: reviewer.id, reviewer_email: reviewer.email, time_ms: input.time_ms ?? 0, comment: input.comment ?? null };
  const before = labelView(label);
  const after = labelView(updated);
  await emit(ctx, {
    type: accepted ? 'review.accepted' : 'review.rejected',
    project_id: label.project_id,
    data: { label: after, review, task },
    before,
    after,
  });
  if (accepted) {
    const labels = await taskLabels(ctx, label.task_id);
    if (labels.every((l) => l.review_status === 'accepted')) {
      const moved = await moveTask(ctx, t, 'complete');
      const refs = labels.map((l) => ({ id: l.id, label_hash: l.label_hash, completed_by: l.created_by }));
      await emitCompleted(ctx, label.project_id, moved.before, moved.after, refs);
      task = moved.after;
    }
  }
  return { label: after, task };
}
