// The public JSON shape of each entity. The API returns these and events carry them as
// before/after snapshots, so a receiver sees the same object whichever way it looks.
// Field names follow the seeds: Label Studio (task.data/meta/is_labeled, annotation
// result/lead_time/was_cancelled/ground_truth/completed_by) and Encord (project_hash,
// data_hash, label_hash).

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export interface StageView {
  id: number;
  stage_hash: string;
  position: number;
  kind: string;
  title: string;
}

export interface ProjectView {
  id: number;
  project_hash: string;
  title: string;
  description: string;
  status: string;
  label_config: string;
  created_by: number | null;
  organization: number;
  created_at: string;
  updated_at: string;
}



export interface TaskView {
  id: number;
  data_hash: string;
  project: number;
  data: Record<string, unknown>;
  meta: Record<string, unknown>;
  stage: { id: number; kind: string; title: string };
  assignee: number | null;
  reviewer: number | null;
  is_labeled: boolean;
  /** Tasks imported in one request share it (Label Studio: file_upload). */
  import_id: number;
  created_at: string;
  updated_at: string;
}


export interface LabelView {
  id: number;
  label_hash: string;
  task: number;
  project: number;
  result: unknown[];
  completed_by: number;
  lead_time: number;
  was_cancelled: boolean;
  ground_truth: boolean;
  review_status: string;
  created_at: string;
  updated_at: string;
}


export interface UserView {
  id: number;
  email: string;
  name: string;
  role: string;
  organization: number;
  created_at: string;
  updated_at: string;
}


export interface ActivityView {
  id: number;
  kind: string;
  user: number;
  label: number | null;
  task: number;
  duration_ms: number;
  comment: string | null;
  occurred_at: string;
}


/** Label Studio's project counters (seed 003), derived from rows at read time. */
export interface ProjectCounters {
  task_number: number;
  finished_task_number: number;
  total_annotations_number: number;
  num_tasks_with_annotations: number;
  useful_annotation_number: number;
  ground_truth_number: number;
  skipped_annotations_number: number;
  total_predictions_number: number;
}

export type ProjectWithCounters = ProjectView & ProjectCounters & { workflow: { stages: StageView[] } };

// SuperAnnotate's project statuses (seed 004: "Project status updated", NotStarted -> InProgress).
export const PROJECT_STATUSES = ['NotStarted', 'InProgress', 'OnHold', 'Completed', 'Returned'] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

export const STAGE_KINDS = ['annotate', 'review', 'complete'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];
