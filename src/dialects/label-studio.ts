// The "label-studio" dialect: Label Studio's webhook payloads (seed 003). Each body is
// {"action": NAME, <entity>, "project": {…}}: the entity serialized as Label Studio's API
// does, and the project with its counters. A webhook with send_payload=false sends only
// {"action": NAME}.
import type { ProjectWithCounters } from '../model/views.js';
import type { LabelView, TaskView } from '../model/views.js';
import { PROJECT_STATE_KEY, type Dialect, type RenderInput, type Rendered } from './dialect.js';
import { deriveConfig } from './label-config.js';
import { renderStandardBody, standardHeaders } from './standard.js';

export const LS_ACTIONS = [
  'TASKS_CREATED',
  'TASK_CREATED',
  'TASKS_DELETED',
  'TASK_DELETED',
  'ANNOTATION_CREATED',
  'ANNOTATIONS_CREATED',
  'ANNOTATION_UPDATED',
  'ANNOTATIONS_DELETED',
  'PROJECT_CREATED',
  'PROJECT_UPDATED',
  'PROJECT_DELETED',
] as const;
export type LsAction = (typeof LS_ACTIONS)[number];

/** Label Studio action -> the canonical event types it covers. */
export const ACTION_EVENTS: Record<LsAction, string[]> = {
  TASKS_CREATED: ['task.created'],
  TASK_CREATED: ['task.created'],
  TASKS_DELETED: ['task.deleted'],
  TASK_DELETED: ['task.deleted'],
  ANNOTATION_CREATED: ['annotation.created'],
  // Labelcast creates one label per request, so each arrives as ANNOTATION_CREATED; the
  // bulk name is accepted for webhooks declared with it.
  ANNOTATIONS_CREATED: ['annotation.created'],
  ANNOTATION_UPDATED: ['annotation.updated'],
  ANNOTATIONS_DELETED: ['annotation.deleted'],
  PROJECT_CREATED: ['project.created'],
  PROJECT_UPDATED: ['project.updated', 'project.status_changed'],
  PROJECT_DELETED: ['project.deleted'],
};

export function actionFor(ev: { type: string; data: Record<string, unknown> }): LsAction | null {
  switch (ev.type) {
    case 'task.created':
      return (ev.data.tasks as unknown[]).length === 1 ? 'TASK_CREATED' : 'TASKS_CREATED';
    case 'task.deleted':
      // Seed 003: "TASK_DELETED or TASKS_DELETED if multiple tasks were deleted at once".
      return (ev.data.tasks as unknown[]).length === 1 ? 'TASK_DELETED' : 'TASKS_DELETED';
    case 'annotation.created':
      return 'ANNOTATION_CREATED';
    case 'annotation.updated':
      return 'ANNOTATION_UPDATED';
    case 'annotation.deleted':
      return 'ANNOTATIONS_DELETED';
    case 'project.created':
      return 'PROJECT_CREATED';
    case 'project.updated':
    case 'project.status_changed':
      return 'PROJECT_UPDATED';
    case 'project.deleted':
      return 'PROJECT_DELETED';
    default:
      return null;
  }
}

type ProjectLike = Omit<ProjectWithCounters, 'task_number' | 'finished_task_number' | 'total_annotations_number' | 'num_tasks_with_annotations' | 'useful_annotation_number' | 'ground_truth_number' | 'skipped_annotations_number' | 'total_predictions_number'> &
  Partial<ProjectWithCounters>;

/** A project the way Label Studio's API serializes it, with the counters of seed 003. */
export function lsProject(p: ProjectLike): Record<string, unknown> {
  const derived = deriveConfig(p.label_config);
  return {
    id: p.id,
    title: p.title,
    description: p.description,
    label_config: p.label_config,
    expert_instruction: '',
    show_instruction: false,
    show_skip_button: true,
    enable_empty_annotation: true,
    show_annotation_history: false,
    show_collab_predictions: true,
    evaluate_predictions_automatically: false,
    // Label Studio's per-project token; Labelcast derives a stable one from project_hash.
    token: p.project_hash.replace(/-/g, '').slice(0, 16),
    result_count: 0,
    color: '#FFFFFF',
    maximum_annotations: 1,
    min_annotations_to_start_training: 10,
    control_weights: derived.control_weights,
    model_version: '',
    data_types: derived.data_types,
    is_draft: false,
    is_published: p.status === 'InProgress' || p.status === 'Completed',
    created_at: p.created_at,
    updated_at: p.updated_at,
    sampling: 'Sequential sampling',
    show_ground_truth_first: true,
    show_overlap_first: true,
    overlap_cohort_percentage: 100,
    task_data_login: null,
    task_data_password: null,
    organization: p.organization,
    created_by: p.created_by,
    task_number: p.task_number ?? 0,
    finished_task_number: p.finished_task_number ?? 0,
    total_predictions_number: p.total_predictions_number ?? 0,
    total_annotations_number: p.total_annotations_number ?? 0,
    num_tasks_with_annotations: p.num_tasks_with_annotations ?? 0,
    useful_annotation_number: p.useful_annotation_number ?? 0,
    ground_truth_number: p.ground_truth_number ?? 0,
    skipped_annotations_number: p.skipped_annotations_number ?? 0,
  };
}

export function lsTask(t: TaskView): Record<string, unknown> {
  return {
    id: t.id,
    data: t.data,
    meta: t.meta,
    created_at: t.created_at,
    updated_at: t.updated_at,
    is_labeled: t.is_labeled,
    overlap: 1,
    project: t.project,
    file_upload: t.import_id,
  };
}

/** completedBy: who the action is about (seed 003: for ANNOTATION_UPDATED, who updated it). */
export function lsAnnotation(l: LabelView, completedBy: number = l.completed_by): Record<string, unknown> {
  return {
    id: l.id,
    result: l.result,
    was_cancelled: l.was_cancelled,
    ground_truth: l.ground_truth,
    created_at: l.created_at,
    updated_at: l.updated_at,
    lead_time: l.lead_time,
    prediction: {},
    result_count: 0,
    task: l.task,
    completed_by: completedBy,
  };
}

/**
 * The project with its counters as they were when the event happened: the snapshot taken
 * in the event's transaction (so a retry shows the same numbers as the first attempt).
 * Events stored before snapshots existed fall back to the project as it is now, or, once
 * deleted, as the event last saw it.
 */
function projectOf(input: RenderInput): Record<string, unknown> | null {
  const ev = input.event;
  if (ev.project_id === null) return null;
  const snapshot = ev.data[PROJECT_STATE_KEY] as ProjectWithCounters | undefined;
  if (snapshot) return lsProject(snapshot);
  const now = input.context.projects.get(ev.project_id);
  if (now) return lsProject(now);
  const snap = (ev.data.project ?? ev.before ?? ev.after) as ProjectLike | undefined;
  return snap && 'label_config' in snap ? lsProject(snap) : { id: ev.project_id };
}

export const labelStudio: Dialect = {
  name: 'label-studio',
  supports: (type) => type === 'ping' || actionFor({ type, data: { tasks: [] } }) !== null,
  parts: () => 1,
  render(input): Rendered {
    const ev = input.event;
    let body: string;
    if (ev.type === 'ping') body = renderStandardBody(ev);
    else {
      const action = actionFor(ev)!;
      let payload: Record<string, unknown> = { action };
      if (input.options.send_payload !== false) {
        switch (ev.type) {
          case 'task.created':
            payload = { action, tasks: (ev.data.tasks as TaskView[]).map(lsTask), project: projectOf(input) };
            break;
          case 'task.deleted':
            payload = { action, tasks: (ev.data.tasks as { id: number }[]).map((t) => ({ id: t.id })), project: projectOf(input) };
            break;
          case 'annotation.created':
            payload = { action, annotation: lsAnnotation(ev.data.label as LabelView), project: projectOf(input) };
            break;
          case 'annotation.updated':
            // Events stored before updated_by existed name the caller.
            payload = { action, annotation: lsAnnotation(ev.data.label as LabelView, (ev.data.updated_by as number | undefined) ?? ev.actor.user_id), project: projectOf(input) };
            break;
          case 'annotation.deleted':
            payload = { action, annotations: (ev.data.labels as { id: number }[]).map((l) => ({ id: l.id })), project: projectOf(input) };
            break;
          case 'project.deleted':
            payload = { action, project: { id: ev.project_id } };
            break;
          default:
            payload = { action, project: projectOf(input) };
        }
      }
      body = JSON.stringify(payload);
    }
    return { body, headers: { 'content-type': 'application/json', ...(input.secrets.length ? standardHeaders(ev.id, input.sentAt, body, input.secrets) : {}) } };
  },
};
