// Row types of every table, as Kysely sees them. One schema serves SQLite and PostgreSQL,
// so the column types are the common ground of both:
// - times are epoch milliseconds in integer columns (bigint on PostgreSQL, parsed back to
//   number in store/connect.ts); range queries for digests stay plain integer comparisons.
// - flags are 0/1 integers: better-sqlite3 cannot bind JS booleans, and one representation
//   means no per-database conversion in domain code.
// - JSON documents are text; nothing queries inside them.
import type { Generated } from 'kysely';

export interface OrganizationTable {
  id: Generated<number>;
  name: string;
  created_at: number;
}

export interface UserTable {
  id: Generated<number>;
  org_id: number;
  email: string;
  name: string;
  role: string;
  created_at: number;
  updated_at: number;
}

export interface ApiKeyTable {
  id: Generated<number>;
  org_id: number;
  user_id: number;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: number;
  last_used_at: number | null;
}

export interface ProjectTable {
  id: Generated<number>;
  org_id: number;
  project_hash: string;
  title: string;
  description: string;
  status: string;
  label_config: string;
  created_by: number | null;
  created_at: number;
  updated_at: number;
}

export interface StageTable {
  id: Generated<number>;
  project_id: number;
  stage_hash: string;
  position: number;
  kind: string;
  title: string;
}

export interface TaskTable {
  id: Generated<number>;
  org_id: number;
  project_id: number;
  data_hash: string;
  data: string;
  meta: string;
  stage_id: number;
  assignee_id: number | null;
  reviewer_id: number | null;
  is_labeled: number;
  import_id: number;
  created_at: number;
  updated_at: number;
}

export interface LabelTable {
  id: Generated<number>;
  org_id: number;
  project_id: number;
  task_id: number;
  label_hash: string;
  result: string;
  created_by: number;
  lead_time: number;
  was_cancelled: number;
  ground_truth: number;
  review_status: string;
  created_at: number;
  updated_at: number;
}

// One row per unit of work a person did: a label added or edited, a label submitted, a review.
// The digest statistics (seed 000: AnnotatorStats, ReviewerStats) are SQL aggregates over it.
export interface ActivityTable {
  id: Generated<number>;
  org_id: number;
  project_id: number;
  task_id: number;
  label_id: number | null;
  user_id: number;
  // For reviews: the annotator whose label was reviewed, so accepted/rejected counts per
  // annotator need no join back to labels that may have been deleted since.
  subject_user_id: number | null;
  kind: string;
  duration_ms: number;
  comment: string | null;
  occurred_at: number;
}

export interface EventTable {
  // Commit-side order for paging; id is the public, time-ordered UUIDv7.
  seq: Generated<number>;
  id: string;
  org_id: number;
  project_id: number | null;
  type: string;
  occurred_at: number;
  actor: string;
  data: string;
  before: string | null;
  /**
   * JSON, or `@data:<start>:<end>` when the text is `data`'s from start to end (JavaScript
   * string offsets, not SQL character positions): read it through queue/event-rows.ts
   * afterText, never directly (migration 0011).
   */
  after: string | null;
  /**
   * Its deliveries that retention has not deleted yet: written with the event by the only
   * writer of an event's deliveries (store/queue/enqueue.ts writeEvent), decremented as
   * retention deletes them (schedule/retention.ts), which removes an old event at 0. Null:
   * not counted (written by an earlier version during an upgrade), never removed.
   */
  deliveries_left: Generated<number | null>;
}

export interface NotificationTable {
  id: Generated<number>;
  org_id: number;
  title: string;
  description: string;
  scope: string;
  triggers: string;
  active: number;
  origin: string;
  stage_id: number | null;
  created_by: number | null;
  created_at: number;
  updated_at: number;
}

export interface ChannelTable {
  id: Generated<number>;
  org_id: number;
  notification_id: number;
  kind: string;
  config: string;
  secret: string | null;
  previous_secret: string | null;
  previous_secret_until: number | null;
  active: number;
  max_in_flight: number;
  disable_after_failures: number | null;
  failure_streak: number;
  first_failure_at: number | null;
  disabled_at: number | null;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
  min_interval_ms: Generated<number>;
  last_sent_at: number | null;
  /** Nothing is sent to this channel before this time (a 429 Retry-After from Slack). */
  not_before: Generated<number | null>;
}

export interface DeliveryTable {
  id: Generated<number>;
  org_id: number;
  notification_id: number;
  channel_id: number;
  event_id: string | null;
  event_type: string;
  part: number;
  payload: string | null;
  // pending | sending | succeeded | failed (dead-lettered) | cancelled (its channel deleted)
  status: string;
  attempt_count: number;
  // Position in the retry schedule; a resend starts it again.
  retry_index: number;
  next_attempt_at: number;
  lease_until: number | null;
  leased_by: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  dedupe_key: string | null;
}

export interface AttemptTable {
  id: Generated<number>;
  delivery_id: number;
  channel_id: number;
  attempt_no: number;
  started_at: number;
  latency_ms: number;
  url: string;
  request_headers: string;
  /** Empty when request_body_from says where the body is kept instead. */
  request_body: string;
  /**
   * Null: request_body is the body as sent. Otherwise the name of a kept body format
   * (dialects/dialect.ts KeptBody, e.g. 'standard/1'): the body was that rendering of the
   * delivery's event, and is rendered again when the attempt is read.
   */
  request_body_from: Generated<string | null>;
  response_status: number | null;
  response_body: string | null;
  outcome: string;
  /** The worker process that made the attempt. */
  worker: string;
  error_kind: string | null;
  error_message: string | null;
  /** Custom actions: what the handler printed (capped, secrets masked). */
  logs: Generated<string | null>;
}

export interface PipelineHookTable {
  notification_id: number;
  org_id: number;
  token_hash: string;
  prefix: string;
  created_at: number;
}

export interface ActionSecretTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  /** The values, sealed (store/secret-box.ts); never returned. */
  sealed: string;
  /** The key names, JSON: shown so a user can see what a set holds. */
  keys: string;
  created_at: number;
  updated_at: number;
}

export interface EmailItemTable {
  id: Generated<number>;
  org_id: number;
  recipient: string;
  window_start: number;
  event_id: string;
  notification_id: number;
  channel_id: number;
  batch_id: number | null;
  created_at: number;
}

export interface DigestWindowTable {
  id: Generated<number>;
  notification_id: number;
  fire_at: number;
  outcome: string;
  created_at: number;
}

export interface OutboxTable {
  id: Generated<number>;
  org_id: number;
  delivery_id: number;
  recipients: string;
  subject: string;
  text: string;
  html: string;
  created_at: number;
}

export interface SlackConnectionTable {
  id: Generated<number>;
  org_id: number;
  user_id: number;
  team_id: string;
  team_name: string;
  bot_token: string;
  bot_user_id: string | null;
  scope: string;
  created_at: number;
  updated_at: number;
}

export interface SlackChannelTable {
  id: Generated<number>;
  org_id: number;
  user_id: number;
  connection_id: number;
  channel_id: string;
  name: string;
  is_private: number;
  refreshed_at: number;
}

export interface SettingTable {
  key: string;
  value: string;
}

/** One per organization: changes whenever what routing reads does (store/queue/routes.ts). */
export interface RoutingVersionTable {
  org_id: number;
  version: number;
}

export interface Database {
  routing_versions: RoutingVersionTable;
  pipeline_hooks: PipelineHookTable;
  action_secrets: ActionSecretTable;
  email_items: EmailItemTable;
  digest_windows: DigestWindowTable;
  outbox: OutboxTable;
  slack_connections: SlackConnectionTable;
  slack_channels: SlackChannelTable;
  settings: SettingTable;
  notifications: NotificationTable;
  channels: ChannelTable;
  deliveries: DeliveryTable;
  attempts: AttemptTable;
  organizations: OrganizationTable;
  users: UserTable;
  api_keys: ApiKeyTable;
  projects: ProjectTable;
  stages: StageTable;
  tasks: TaskTable;
  labels: LabelTable;
  activity: ActivityTable;
  events: EventTable;
}
