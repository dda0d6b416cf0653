// Projects and their workflows. A project is created with its workflow (default: annotate,
// review, complete, the Encord Workflow template shape), and every change is an event.
import type { Db } from '../store/db.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError } from '../model/errors.js';
import { emit } from './events.js';
import { newHash } from '../model/ids.js';
import { decodeCursor, pageLimit, titleContains, toPage, type Page, type PageQuery } from './paging.js';
import { type ProjectStatus, type ProjectView, type StageKind, type StageView } from '../model/views.js';
import { projectView, stageView } from './views.js';
import { loadProject, loadStages, projectSnapshot } from './project-reads.js';
import { runRaw, type RawStatement } from '../store/raw.js';

const PROJECT_WRITE: RawStatement = {
  sqlite: 'update projects set title = ?, description = ?, label_config = ?, status = ?, updated_at = ? where id = ?',
  postgres: 'update projects set title = $1, description = $2, label_config = $3, status = $4, updated_at = $5 where id = $6',
};
import { checkStageWebhooks, dropProjectStageWebhooks, stageWebhooks, syncStageWebhooks, type StageWebhookView } from './stage-webhooks.js';


export interface StageInput {
  kind: StageKind;
  title?: string | undefined;
  /** Encord-style stage webhooks (annotate and complete stages only); absent: unchanged. */
  webhooks?: string[] | undefined;
}

export interface NewProject {
  title: string;
  description?: string | undefined;
  status?: ProjectStatus | undefined;
  label_config?: string | undefined;
  workflow?: { stages: StageInput[] } | undefined;
}

export interface ProjectPatch {
  title?: string | undefined;
  description?: string | undefined;
  status?: ProjectStatus | undefined;
  label_config?: string | undefined;
}


const DEFAULT_STAGES: StageInput[] = [{ kind: 'annotate' }, { kind: 'review' }, { kind: 'complete' }];
const DEFAULT_TITLES: Record<StageKind, string> = { annotate: 'Annotate', review: 'Review', complete: 'Complete' };

/** A workflow is annotate, then at most one review stage, then complete. */
export function validateStages(stages: StageInput[]): void {
  const kinds = stages.map((s) => s.kind).join(',');
  if (kinds !== 'annotate,complete' && kinds !== 'annotate,review,complete') {
    throw new AppError(
      'invalid_workflow',
      `workflow stages must be [annotate, complete] or [annotate, review, complete] in that order; got [${kinds}].`,
    );
  }
  for (const s of stages) checkStageWebhooks(s.kind, s.webhooks);
}

async function applyStageWebhooks(ctx: Ctx, project: { id: number; title: string }, inputs: StageInput[]): Promise<void> {
  if (!inputs.some((s) => s.webhooks !== undefined)) return;
  const stages = await loadStages(ctx.trx, project.id);
  for (const input of inputs) {
    if (input.webhooks === undefined) continue;
    await syncStageWebhooks(ctx, project, stages.find((s) => s.kind === input.kind)!, input.webhooks);
  }
}


export async function createProject(ctx: Ctx, input: NewProject): Promise<ProjectView & { workflow: { stages: StageView[] } }> {
  requireRole(ctx.actor, CAN.manageProjects, 'create projects');
  const stages = input.workflow?.stages ?? DEFAULT_STAGES;
  validateStages(stages);
  const row = await ctx.trx
    .insertInto('projects')
    .values({
      org_id: ctx.actor.org_id,
      project_hash: newHash(),
      title: input.title,
      description: input.description ?? '',
      status: input.status ?? 'NotStarted',
      label_config: input.label_config ?? '<View></View>',
      created_by: ctx.actor.user_id,
      created_at: ctx.now,
      updated_at: ctx.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await ctx.trx
    .insertInto('stages')
    .values(stages.map((s, i) => ({ project_id: row.id, stage_hash: newHash(), position: i, kind: s.kind, title: s.title ?? DEFAULT_TITLES[s.kind] })))
    .execute();
  const snapshot = await projectSnapshot(ctx.trx, ctx.store.kind, ctx.actor.org_id, row.id);
  await emit(ctx, { type: 'project.created', project_id: row.id, data: { project: snapshot }, after: snapshot });
  await applyStageWebhooks(ctx, row, stages);
  return snapshot;
}

export async function updateProject(ctx: Ctx, id: number, patch: ProjectPatch): Promise<ProjectView & { workflow: { stages: StageView[] } }> {
  requireRole(ctx.actor, CAN.manageProjects, 'change projects');
  const before = await projectSnapshot(ctx.trx, ctx.store.kind, ctx.actor.org_id, id);
  const changed = (['title', 'description', 'label_config'] as const).filter((k) => patch[k] !== undefined && patch[k] !== before[k]);
  const statusChanged = patch.status !== undefined && patch.status !== before.status;
  if (changed.length === 0 && !statusChanged) return before;
  const set = {
    title: patch.title ?? before.title,
    description: patch.description ?? before.description,
    label_config: patch.label_config ?? before.label_config,
    status: patch.status ?? before.status,
  };
  // SQL text rather than the builder, like the reads in project-reads.ts: this is every
  // project update's write (and a named statement on PostgreSQL, store/raw.ts).
  await runRaw(ctx.trx, ctx.store.kind, PROJECT_WRITE, [set.title, set.description, set.label_config, set.status, ctx.now, id]);
  // The new state is known without reading it back: two queries fewer per update.
  const after = { ...before, ...set, updated_at: new Date(ctx.now).toISOString() };
  if (changed.length > 0) {
    await emit(ctx, { type: 'project.updated', project_id: id, data: { project: after, changed }, before, after });
  }
  if (statusChanged) {
    // Its own event so a notification can follow status alone, with from/to filters as
    // SuperAnnotate's "Project status updated" trigger has (seed 004).
    await emit(ctx, {
      type: 'project.status_changed',
      project_id: id,
      data: { project: after, from: before.status, to: after.status },
      before,
      after,
    });
  }
  return after;
}

export async function deleteProject(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.manageProjects, 'delete projects');
  const before = await projectSnapshot(ctx.trx, ctx.store.kind, ctx.actor.org_id, id);
  await dropProjectStageWebhooks(ctx, before.workflow.stages.map((s) => s.id));
  // Children first; the event keeps the project's last state for receivers.
  await ctx.trx.deleteFrom('activity').where('project_id', '=', id).execute();
  await ctx.trx.deleteFrom('labels').where('project_id', '=', id).execute();
  await ctx.trx.deleteFrom('tasks').where('project_id', '=', id).execute();
  await ctx.trx.deleteFrom('stages').where('project_id', '=', id).execute();
  await ctx.trx.deleteFrom('projects').where('id', '=', id).execute();
  await emit(ctx, {
    type: 'project.deleted',
    project_id: id,
    data: { project: { id, project_hash: before.project_hash, title: before.title } },
    before,
  });
}


export async function listProjects(db: Db, orgId: number, q: PageQuery & { search?: string | undefined; status?: ProjectStatus | undefined }): Promise<Page<ProjectView>> {
  const limit = pageLimit(q);
  let query = db.selectFrom('projects').selectAll().where('org_id', '=', orgId).where('id', '>', decodeCursor(q.cursor));
  if (q.search) {
    query = query.where(titleContains(q.search));
  }
  if (q.status) query = query.where('status', '=', q.status);
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  return toPage(rows, limit, projectView);
}

export async function getWorkflow(db: Db, orgId: number, projectId: number): Promise<{ project: number; stages: (StageView & { task_count: number; webhooks: StageWebhookView[] })[] }> {
  await loadProject(db, orgId, projectId);
  const stages = await db
    .selectFrom('stages')
    .leftJoin('tasks', 'tasks.stage_id', 'stages.id')
    .select(['stages.id', 'stages.stage_hash', 'stages.position', 'stages.kind', 'stages.title', (eb) => eb.fn.count<number>('tasks.id').as('task_count')])
    .where('stages.project_id', '=', projectId)
    .groupBy(['stages.id', 'stages.stage_hash', 'stages.position', 'stages.kind', 'stages.title'])
    .orderBy('stages.position')
    .execute();
  const hooks = await stageWebhooks(db, stages.map((s) => s.id));
  return { project: projectId, stages: stages.map((s) => ({ ...stageView(s), task_count: Number(s.task_count), webhooks: hooks.get(s.id) ?? [] })) };
}

/**
 * Replaces a project's stages. A stage keeps its id and stage_hash when its kind stays, so
 * anything attached to a stage (stage webhooks, issue 4) survives a rename. Removing a
 * stage that still holds tasks is refused rather than moving work behind the user's back.
 */
export async function replaceWorkflow(ctx: Ctx, projectId: number, stages: StageInput[]) {
  requireRole(ctx.actor, CAN.manageProjects, 'change workflows');
  validateStages(stages);
  const before = await projectSnapshot(ctx.trx, ctx.store.kind, ctx.actor.org_id, projectId);
  const existing = await loadStages(ctx.trx, projectId);
  const wanted = new Set(stages.map((s) => s.kind));
  for (const old of existing) {
    if (wanted.has(old.kind as StageKind)) continue;
    const held = await ctx.trx.selectFrom('tasks').select('id').where('stage_id', '=', old.id).limit(1).executeTakeFirst();
    if (held) {
      throw new AppError('stage_in_use', `The ${old.kind} stage '${old.title}' still holds tasks (for example task ${held.id}); move or finish them before removing the stage.`);
    }
    await ctx.trx.deleteFrom('stages').where('id', '=', old.id).execute();
  }
  for (const [i, s] of stages.entries()) {
    const old = existing.find((e) => e.kind === s.kind);
    const title = s.title ?? old?.title ?? DEFAULT_TITLES[s.kind];
    if (old) {
      await ctx.trx.updateTable('stages').set({ position: i, title }).where('id', '=', old.id).execute();
    } else {
      await ctx.trx.insertInto('stages').values({ project_id: projectId, stage_hash: newHash(), position: i, kind: s.kind, title }).execute();
    }
  }
  await ctx.trx.updateTable('projects').set({ updated_at: ctx.now }).where('id', '=', projectId).execute();
  const after = await projectSnapshot(ctx.trx, ctx.store.kind, ctx.actor.org_id, projectId);
  await emit(ctx, { type: 'project.updated', project_id: projectId, data: { project: after, changed: ['workflow'] }, before, after });
  await applyStageWebhooks(ctx, after, stages);
  return getWorkflow(ctx.trx, ctx.actor.org_id, projectId);
}
