// Reading a project as receivers see it: its row, its workflow stages and Label Studio's
// counters (seed 003). Routing reads projects through here inside the command's transaction,
// so this module writes nothing and emits nothing.
import { sql, type Selectable } from 'kysely';
import type { ProjectTable, StageTable } from '../store/schema.js';
import type { Db, Tx } from '../store/db.js';
import type { DatabaseKind } from '../store/kind.js';
import { runRaw } from '../store/raw.js';
import { notFound } from '../model/errors.js';
import type { ProjectCounters, ProjectView, ProjectWithCounters, StageView } from '../model/views.js';
import { projectView, stageView } from './views.js';

export async function projectCounters(db: Db | Tx, projectId: number): Promise<ProjectCounters> {
  // One round trip: each counter is a scalar subquery over an indexed project_id column.
  const row = await db
    .selectNoFrom((eb) => [
      eb.selectFrom('tasks').select(eb.fn.countAll<number>().as('c')).where('project_id', '=', projectId).as('task_number'),
      eb.selectFrom('tasks').select(eb.fn.countAll<number>().as('c')).where('project_id', '=', projectId).where('is_labeled', '=', 1).as('finished_task_number'),
      eb.selectFrom('labels').select(eb.fn.countAll<number>().as('c')).where('project_id', '=', projectId).as('total_annotations_number'),
      eb
        .selectFrom('labels')
        .select(sql<number>`count(distinct task_id)`.as('c'))
        .where('project_id', '=', projectId)
        .where('was_cancelled', '=', 0)
        .where('ground_truth', '=', 0)
        .as('num_tasks_with_annotations'),
      eb
        .selectFrom('labels')
        .select(eb.fn.countAll<number>().as('c'))
        .where('project_id', '=', projectId)
        .where('was_cancelled', '=', 0)
        .where('ground_truth', '=', 0)
        .as('useful_annotation_number'),
      eb.selectFrom('labels').select(eb.fn.countAll<number>().as('c')).where('project_id', '=', projectId).where('ground_truth', '=', 1).as('ground_truth_number'),
      eb.selectFrom('labels').select(eb.fn.countAll<number>().as('c')).where('project_id', '=', projectId).where('was_cancelled', '=', 1).as('skipped_annotations_number'),
    ])
    .executeTakeFirstOrThrow();
  const n = (v: unknown) => Number(v ?? 0);
  return {
    task_number: n(row.task_number),
    finished_task_number: n(row.finished_task_number),
    total_annotations_number: n(row.total_annotations_number),
    num_tasks_with_annotations: n(row.num_tasks_with_annotations),
    useful_annotation_number: n(row.useful_annotation_number),
    ground_truth_number: n(row.ground_truth_number),
    skipped_annotations_number: n(row.skipped_annotations_number),
    // Labelcast stores no model predictions, so this is truly zero, kept for receivers that
    // read Label Studio's full counter set.
    total_predictions_number: 0,
  };
}

export async function getProject(db: Db, kind: DatabaseKind, orgId: number, id: number): Promise<ProjectWithCounters> {
  const snap = await projectSnapshot(db, kind, orgId, id);
  return { ...snap, ...(await projectCounters(db, id)) };
}

export async function loadProject(trx: Db | Tx, orgId: number, id: number) {
  // Written as SQL text: every project command reads its project and stages first, and the
  // builder's query-building was most of their cost (docs/performance.md).
  const row = (await sql<Selectable<ProjectTable>>`select * from projects where org_id = ${orgId} and id = ${id}`.execute(trx)).rows[0];
  if (!row) throw notFound('project', id);
  return row;
}

export async function loadStages(trx: Db | Tx, projectId: number) {
  return (await sql<Selectable<StageTable>>`select * from stages where project_id = ${projectId} order by position`.execute(trx)).rows;
}

// The project with its stages in one statement: every project command starts with it, and
// on PostgreSQL the two reads were two of a routed command's round trips (docs/performance.md).
// The stages are put in order here, not by the aggregate: an ordered aggregate sorts in a
// temporary B-tree on SQLite, 10.5 -> 7.9 us of a ~10 us read (20,000 reads, round 6), for
// the few stages a workflow has.
const stageFields = ['id', 'stage_hash', 'position', 'kind', 'title'];
const SNAPSHOT = {
  sqlite: `select p.*, (select json_group_array(json_object(${stageFields.map((f) => `'${f}', s.${f}`).join(', ')}))
                        from stages s where s.project_id = p.id) as stages_json
           from projects p where p.org_id = ? and p.id = ?`,
  postgres: `select p.*, coalesce((select json_agg(json_build_object(${stageFields.map((f) => `'${f}', s.${f}`).join(', ')}))
                                   from stages s where s.project_id = p.id), '[]'::json)::text as stages_json
             from projects p where p.org_id = $1 and p.id = $2`,
};

export async function projectSnapshot(trx: Db | Tx, kind: DatabaseKind, orgId: number, id: number): Promise<ProjectView & { workflow: { stages: StageView[] } }> {
  const [row] = await runRaw<Selectable<ProjectTable> & { stages_json: string }>(trx, kind, SNAPSHOT, [orgId, id]);
  if (!row) throw notFound('project', id);
  const stages = (JSON.parse(row.stages_json) as Selectable<StageTable>[]).sort((a, b) => a.position - b.position);
  return { ...projectView(row), workflow: { stages: stages.map(stageView) } };
}
