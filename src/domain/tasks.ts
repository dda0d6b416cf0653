// Tasks (Encord data units, Label Studio tasks, SuperAnnotate items): imported in bulk into
// a project's annotate stage. One import is one task.created event listing every task, the
// way Label Studio sends TASKS_CREATED once per import (seed 003).
import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { StageTable, TaskTable } from '../store/schema.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { notFound } from '../model/errors.js';
import { emit } from './events.js';
import { newHash } from '../model/ids.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageQuery } from './paging.js';
import { loadProject, loadStages, projectSnapshot } from './project-reads.js';
import { type StageKind } from '../model/views.js';
import { type TaskView } from '../model/views.js';
import { taskView } from './views.js';

export const MAX_IMPORT = 1000;

export interface NewTask {
  data: Record<string, unknown>;
  meta?: Record<string, unknown> | undefined;
  assignee?: number | null | undefined;
  reviewer?: number | null | undefined;
}

export async function importTasks(ctx: Ctx, projectId: number, tasks: NewTask[]): Promise<TaskView[]> {
  requireRole(ctx.actor, CAN.manageProjects, 'import tasks');
  const project = await projectSnapshot(ctx.trx, ctx.store.kind, ctx.actor.org_id, projectId);
  const stages = await loadStages(ctx.trx, projectId);
  const annotate = stages.find((s) => s.kind === 'annotate')!;
  const assignees = [...new Set(tasks.flatMap((t) => [t.assignee, t.reviewer]).filter((a): a is number => typeof a === 'number'))];
  if (assignees.length > 0) {
    const found = await ctx.trx.selectFrom('users').select('id').where('org_id', '=', ctx.actor.org_id).where('id', 'in', assignees).execute();
    const missing = assignees.find((a) => !found.some((f) => f.id === a));
    if (missing !== undefined) throw notFound('user (assignee or reviewer)', missing);
  }
  const rows = await ctx.trx
    .insertInto('tasks')
    .values(
      tasks.map((t) => ({
        org_id: ctx.actor.org_id,
        project_id: projectId,
        data_hash: newHash(),
        data: JSON.stringify(t.data),
        meta: JSON.stringify(t.meta ?? {}),
        stage_id: annotate.id,
        assignee_id: t.assignee ?? null,
        reviewer_id: t.reviewer ?? null,
        is_labeled: 0,
        import_id: 0,
        created_at: ctx.now,
        updated_at: ctx.now,
      })),
    )
    .returningAll()
    .execute();
  rows.sort((a, b) => a.id - b.id);
  // The import's id is its first task's id: unique, and known only after the insert.
  const importId = rows[0]!.id;
  await ctx.trx.updateTable('tasks').set({ import_id: importId }).where('id', 'in', rows.map((r) => r.id)).execute();
  for (const r of rows) r.import_id = importId;
  const views = rows.map((r) => taskView(r, annotate));
  await emit(ctx, {
    type: 'task.created',
    project_id: projectId,
    data: { tasks: views, project: { id: project.id, project_hash: project.project_hash, title: project.title } },
    after: views,
  });
  return views;
}

export interface LoadedTask {
  row: Selectable<TaskTable>;
  stage: Selectable<StageTable>;
  stages: Selectable<StageTable>[];
}

/** A task with its project's stages; locked for update on PostgreSQL when inside a command. */
export async function loadTask(ctx: Ctx | { trx: Db; store?: undefined }, orgId: number, id: number): Promise<LoadedTask> {
  let q = ctx.trx.selectFrom('tasks').selectAll().where('org_id', '=', orgId).where('id', '=', id);
  if (ctx.store) q = ctx.store.forUpdate(q);
  const row = await q.executeTakeFirst();
  if (!row) throw notFound('task', id);
  const stages = await loadStages(ctx.trx, row.project_id);
  const stage = stages.find((s) => s.id === row.stage_id)!;
  return { row, stage, stages };
}

export function stageOf(stages: Selectable<StageTable>[], kind: StageKind) {
  return stages.find((s) => s.kind === kind);
}

export async function getTask(db: Db, orgId: number, id: number): Promise<TaskView> {
  const t = await loadTask({ trx: db }, orgId, id);
  return taskView(t.row, t.stage);
}

export async function listTasks(db: Db, orgId: number, projectId: number, q: PageQuery & { stage?: StageKind | undefined }): Promise<Page<TaskView>> {
  await loadProject(db, orgId, projectId);
  const stages = await loadStages(db, projectId);
  const limit = pageLimit(q);
  let query = db.selectFrom('tasks').selectAll().where('project_id', '=', projectId).where('id', '>', decodeCursor(q.cursor));
  if (q.stage) {
    const s = stageOf(stages, q.stage);
    if (!s) return { data: [], next_cursor: null };
    query = query.where('stage_id', '=', s.id);
  }
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  return toPage(rows, limit, (r) => taskView(r, stages.find((s) => s.id === r.stage_id)!));
}

export async function deleteTask(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.manageProjects, 'delete tasks');
  const t = await loadTask(ctx, ctx.actor.org_id, id);
  const before = taskView(t.row, t.stage);
  // Activity rows stay: the work was done and belongs in that window's digest.
  await ctx.trx.deleteFrom('labels').where('task_id', '=', id).execute();
  await ctx.trx.deleteFrom('tasks').where('id', '=', id).execute();
  await emit(ctx, {
    type: 'task.deleted',
    project_id: t.row.project_id,
    data: { tasks: [{ id, data_hash: t.row.data_hash }] },
    before,
  });
}

export interface AssignInput {
  assignee?: number | null | undefined;
  reviewer?: number | null | undefined;
}

/**
 * Assign a task's annotator or reviewer (SuperAnnotate's annotator and QA): one
 * task.assigned event with the task before and after, emitted only when something changed.
 */
export async function assignTask(ctx: Ctx, id: number, input: AssignInput): Promise<TaskView> {
  requireRole(ctx.actor, CAN.manageProjects, 'assign tasks');
  const t = await loadTask(ctx, ctx.actor.org_id, id);
  const users = [input.assignee, input.reviewer].filter((u): u is number => typeof u === 'number');
  if (users.length > 0) {
    const found = await ctx.trx.selectFrom('users').select('id').where('org_id', '=', ctx.actor.org_id).where('id', 'in', users).execute();
    const missing = users.find((u) => !found.some((f) => f.id === u));
    if (missing !== undefined) throw notFound('user (assignee or reviewer)', missing);
  }
  const assignee = input.assignee === undefined ? t.row.assignee_id : input.assignee;
  const reviewer = input.reviewer === undefined ? t.row.reviewer_id : input.reviewer;
  const before = taskView(t.row, t.stage);
  if (assignee === t.row.assignee_id && reviewer === t.row.reviewer_id) return before;
  const row = await ctx.trx.updateTable('tasks').set({ assignee_id: assignee, reviewer_id: reviewer, updated_at: ctx.now }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  const after = taskView(row, t.stage);
  await emit(ctx, {
    type: 'task.assigned',
    project_id: row.project_id,
    data: { task: after, assignee: { from: t.row.assignee_id, to: assignee }, reviewer: { from: t.row.reviewer_id, to: reviewer } },
    before,
    after,
  });
  return after;
}
