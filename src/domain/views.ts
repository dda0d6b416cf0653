// Row -> public JSON shape of each entity (the shapes are in model/views.ts). The API returns
// these and events carry them as before/after snapshots, so a receiver sees the same object
// whichever way it looks.
import type { Selectable } from 'kysely';
import type {
  ActivityTable,
  LabelTable,
  ProjectTable,
  StageTable,
  TaskTable,
  UserTable,
} from '../store/schema.js';
import { iso, type ActivityView, type LabelView, type ProjectView, type StageView, type TaskView, type UserView } from '../model/views.js';
export function projectView(p: Selectable<ProjectTable>): ProjectView {
  return {
    id: p.id,
    project_hash: p.project_hash,
    title: p.title,
    description: p.description,
    status: p.status,
    label_config: p.label_config,
    created_by: p.created_by,
    organization: p.org_id,
    created_at: iso(p.created_at),
    updated_at: iso(p.updated_at),
  };
}
export function stageView(s: Pick<Selectable<StageTable>, 'id' | 'stage_hash' | 'position' | 'kind' | 'title'>): StageView {
  return { id: s.id, stage_hash: s.stage_hash, position: s.position, kind: s.kind, title: s.title };
}
export function taskView(t: Selectable<TaskTable>, stage: Selectable<StageTable>): TaskView {
  return {
    id: t.id,
    data_hash: t.data_hash,
    project: t.project_id,
    data: JSON.parse(t.data) as Record<string, unknown>,
    meta: JSON.parse(t.meta) as Record<string, unknown>,
    stage: { id: stage.id, kind: stage.kind, title: stage.title },
    assignee: t.assignee_id,
    reviewer: t.reviewer_id,
    is_labeled: t.is_labeled === 1,
    import_id: t.import_id,
    created_at: iso(t.created_at),
    updated_at: iso(t.updated_at),
  };
}
export function labelView(l: Selectable<LabelTable>): LabelView {
  return {
    id: l.id,
    label_hash: l.label_hash,
    task: l.task_id,
    project: l.project_id,
    result: JSON.parse(l.result) as unknown[],
    completed_by: l.created_by,
    lead_time: l.lead_time,
    was_cancelled: l.was_cancelled === 1,
    ground_truth: l.ground_truth === 1,
    review_status: l.review_status,
    created_at: iso(l.created_at),
    updated_at: iso(l.updated_at),
  };
}
export function userView(u: Selectable<UserTable>): UserView {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    organization: u.org_id,
    created_at: iso(u.created_at),
    updated_at: iso(u.updated_at),
  };
}
export function activityView(a: Selectable<ActivityTable>): ActivityView {
  return {
    id: a.id,
    kind: a.kind,
    user: a.user_id,
    label: a.label_id,
    task: a.task_id,
    duration_ms: a.duration_ms,
    comment: a.comment,
    occurred_at: iso(a.occurred_at),
  };
}
