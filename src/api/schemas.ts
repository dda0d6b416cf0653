// JSON schemas (TypeBox) of every request and response. They validate input, shape the
// serialized output, and are the OpenAPI document at /openapi.json: one source for all three.
import { Type, type TSchema } from '@sinclair/typebox';
import { ROLES } from '../domain/context.js';
import { EVENT_TYPES } from '../model/event.js';
import { MAX_LIMIT } from '../domain/paging.js';
import { PROJECT_STATUSES, STAGE_KINDS } from '../model/views.js';
import { MAX_IMPORT } from '../domain/tasks.js';
import { LS_ACTIONS } from '../dialects/label-studio.js';
import { DELIVERY_STATUSES } from '../store/delivery-states.js';

import { Id, literalUnion, strict } from '../model/json-schema.js';
import { ChannelInput, ChannelPatch, EmailChannelInput, HeaderMap, SlackChannelInput, WebhookChannelInput } from '../model/channel-inputs.js';

// The channel request schemas live with the domain's channel input types (model/channel-inputs.ts).
export { ChannelInput, ChannelPatch, EmailChannelInput, SlackChannelInput, WebhookChannelInput };

export { Id };
export const IdParams = Type.Object({ id: Id }, strict);
export const Timestamp = Type.String({ format: 'date-time' });
export const Json = Type.Unknown();
export const JsonObject = Type.Object({}, { additionalProperties: true });
const Millis = Type.Number({ minimum: 0, maximum: 7 * 24 * 3600 * 1000, description: 'Milliseconds spent' });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable machine-readable code; see docs/errors.md' }),
    message: Type.String({ description: 'What went wrong and how to fix it' }),
    status: Type.Integer(),
    details: Type.Optional(Type.Unknown()),
  },
  { $id: 'Error' },
);

export const PageQuery = {
  cursor: Type.Optional(Type.String({ maxLength: 64, description: 'next_cursor of the previous page' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 50 })),
};

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), next_cursor: Type.Union([Type.String(), Type.Null()]) });

// --- users and keys
export const Role = literalUnion(ROLES);
export const User = Type.Object({
  id: Id,
  email: Type.String(),
  name: Type.String(),
  role: Type.String(),
  organization: Id,
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const NewUser = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    role: Role,
  },
  strict,
);
export const UserPatch = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), role: Type.Optional(Role) },
  { ...strict, minProperties: 1 },
);
export const ApiKey = Type.Object({
  id: Id,
  name: Type.String(),
  prefix: Type.String({ description: 'First characters of the key, to recognise it' }),
  user: Id,
  created_at: Timestamp,
  last_used_at: Type.Union([Timestamp, Type.Null()]),
});
export const CreatedApiKey = Type.Composite([ApiKey, Type.Object({ key: Type.String({ description: 'The secret; shown only in this response' }) })]);
export const NewApiKey = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), user_id: Type.Optional(Id) },
  strict,
);

// --- projects and workflows
export const ProjectStatus = literalUnion(PROJECT_STATUSES);
export const StageKind = literalUnion(STAGE_KINDS);
export const Stage = Type.Object({ id: Id, stage_hash: Type.String(), position: Type.Integer(), kind: Type.String(), title: Type.String() });
export const StageInput = Type.Object(
  {
    kind: StageKind,
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    webhooks: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { maxItems: 20, description: 'Encord-style stage webhook URLs: annotate (task_submitted_event) and complete (task_completed_event) stages only; omit to leave unchanged' })),
  },
  strict,
);
export const WorkflowInput = Type.Object({ stages: Type.Array(StageInput, { minItems: 2, maxItems: 3 }) }, strict);
export const Workflow = Type.Object({
  project: Id,
  stages: Type.Array(Type.Composite([Stage, Type.Object({ task_count: Type.Integer(), webhooks: Type.Array(Type.Object({ notification: Id, url: Type.String() })) })])),
});

const projectFields = {
  id: Id,
  project_hash: Type.String({ format: 'uuid' }),
  title: Type.String(),
  description: Type.String(),
  status: Type.String(),
  label_config: Type.String(),
  created_by: Type.Union([Id, Type.Null()]),
  organization: Id,
  created_at: Timestamp,
  updated_at: Timestamp,
};
export const ProjectSummary = Type.Object(projectFields);
export const Project = Type.Object({
  ...projectFields,
  workflow: Type.Object({ stages: Type.Array(Stage) }),
});
export const ProjectWithCounters = Type.Object({
  ...projectFields,
  workflow: Type.Object({ stages: Type.Array(Stage) }),
  task_number: Type.Integer(),
  finished_task_number: Type.Integer(),
  total_annotations_number: Type.Integer(),
  num_tasks_with_annotations: Type.Integer(),
  useful_annotation_number: Type.Integer(),
  ground_truth_number: Type.Integer(),
  skipped_annotations_number: Type.Integer(),
  total_predictions_number: Type.Integer(),
});
export const NewProject = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    status: Type.Optional(ProjectStatus),
    label_config: Type.Optional(Type.String({ maxLength: 100_000 })),
    workflow: Type.Optional(WorkflowInput),
  },
  strict,
);
export const ProjectPatch = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    status: Type.Optional(ProjectStatus),
    label_config: Type.Optional(Type.String({ maxLength: 100_000 })),
  },
  { ...strict, minProperties: 1 },
);

// --- tasks
export const Task = Type.Object({
  id: Id,
  data_hash: Type.String({ format: 'uuid' }),
  project: Id,
  data: JsonObject,
  meta: JsonObject,
  stage: Type.Object({ id: Id, kind: Type.String(), title: Type.String() }),
  assignee: Type.Union([Id, Type.Null()]),
  reviewer: Type.Union([Id, Type.Null()]),
  is_labeled: Type.Boolean(),
  import_id: Type.Integer({ description: 'Shared by the tasks of one import (Label Studio file_upload)' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const NewTask = Type.Object(
  {
    data: Type.Object({}, { additionalProperties: true, description: 'The data to label, e.g. {"image": "s3://bucket/1.png"}' }),
    meta: Type.Optional(Type.Object({}, { additionalProperties: true })),
    assignee: Type.Optional(Type.Union([Id, Type.Null()])),
    reviewer: Type.Optional(Type.Union([Id, Type.Null()], { description: 'The reviewer (QA) assigned to the task' })),
  },
  strict,
);
export const ImportTasks = Type.Object({ tasks: Type.Array(NewTask, { minItems: 1, maxItems: MAX_IMPORT }) }, strict);
export const ImportResult = Type.Object({ task_count: Type.Integer(), tasks: Type.Array(Task) });

// --- labels, submissions, reviews
export const Label = Type.Object({
  id: Id,
  label_hash: Type.String({ format: 'uuid' }),
  task: Id,
  project: Id,
  result: Type.Array(Json),
  completed_by: Id,
  lead_time: Type.Number({ description: 'Seconds spent in total (Label Studio lead_time)' }),
  was_cancelled: Type.Boolean(),
  ground_truth: Type.Boolean(),
  review_status: Type.String({ description: 'none, pending, accepted or rejected' }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
const labelFields = {
  result: Type.Array(Json, { maxItems: 10_000, description: 'Label Studio-style result regions' }),
  lead_time: Type.Optional(Type.Number({ minimum: 0, maximum: 7 * 24 * 3600, description: 'Seconds spent' })),
  time_ms: Type.Optional(Millis),
  was_cancelled: Type.Optional(Type.Boolean()),
  ground_truth: Type.Optional(Type.Boolean()),
};
export const NewLabel = Type.Object({ ...labelFields, completed_by: Type.Optional(Id) }, strict);
export const LabelPatch = Type.Object(
  { ...labelFields, result: Type.Optional(labelFields.result), edited_by: Type.Optional(Id) },
  { ...strict, minProperties: 1 },
);
export const Submit = Type.Object({ time_ms: Type.Optional(Millis), submitted_by: Type.Optional(Id) }, strict);
export const Review = Type.Object(
  {
    decision: literalUnion(['accept', 'reject'] as const),
    time_ms: Type.Optional(Millis),
    comment: Type.Optional(Type.String({ maxLength: 10_000 })),
    reviewer: Type.Optional(Id),
  },
  strict,
);
export const ReviewResult = Type.Object({ label: Label, task: Task });
export const Activity = Type.Object({
  id: Id,
  kind: Type.String({ description: 'label_add, label_edit, label_submit, review_accept or review_reject' }),
  user: Id,
  label: Type.Union([Id, Type.Null()]),
  task: Id,
  duration_ms: Type.Number(),
  comment: Type.Union([Type.String(), Type.Null()]),
  occurred_at: Timestamp,
});

// --- events
export const EventType = literalUnion(EVENT_TYPES);
export const Event = Type.Object({
  id: Type.String({ format: 'uuid', description: 'UUIDv7, time-ordered' }),
  type: Type.String(),
  occurred_at: Timestamp,
  org_id: Id,
  project_id: Type.Union([Id, Type.Null()]),
  actor: Type.Object({ user_id: Id, email: Type.String(), api_key_id: Type.Union([Id, Type.Null()]) }),
  data: JsonObject,
  before: Type.Optional(Json),
  after: Type.Optional(Json),
});
export const EventQuery = Type.Object(
  {
    ...PageQuery,
    type: Type.Optional(Type.Array(EventType, { description: 'Repeat to filter by several types' })),
    project_id: Type.Optional(Id),
  },
  strict,
);

// --- notifications, channels, deliveries
export const Scope = Type.Object(
  { projects: Type.Union([Type.Literal('all'), Type.Array(Id, { minItems: 1, maxItems: 1000 })], { description: '"all" (the whole organization) or project ids' }) },
  strict,
);
export const TriggerName = literalUnion(['all', ...EVENT_TYPES] as const);
export const DigestTrigger = Type.Object(
  {
    cron: Type.Optional(Type.String({ maxLength: 100, description: '5-field cron; default "0 17 * * *" (daily at 17:00)' })),
    tz: Type.Optional(Type.String({ maxLength: 64, description: 'IANA time zone of the cron; default UTC' })),
    window_hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 31, description: 'Hours covered, ending at each run; default 24' })),
    send_empty: Type.Optional(Type.Boolean({ description: 'Send a digest with no activity; default false' })),
  },
  strict,
);
export const Trigger = Type.Union([
  TriggerName,
  Type.Object({ digest: DigestTrigger }, { ...strict, description: 'The "Full digest" trigger' }),
  Type.Object(
    {
      event: literalUnion(EVENT_TYPES),
      from: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 20, description: 'project.status_changed: only from these statuses' })),
      to: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 20, description: 'project.status_changed: only to these statuses' })),
    },
    strict,
  ),
]);
export const Channel = Type.Object({
  id: Id,
  notification: Id,
  type: Type.String({ description: 'webhook, email or slack' }),
  url: Type.Optional(Type.String()),
  dialect: Type.Optional(Type.String()),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  send_payload: Type.Optional(Type.Boolean()),
  signed: Type.Optional(Type.Boolean()),
  recipients: Type.Optional(Type.Array(Type.String())),
  slack: Type.Optional(Type.Object({ via: Type.String(), channel: Type.Union([Type.String(), Type.Null()]), channel_name: Type.Union([Type.String(), Type.Null()]), team: Type.Union([Type.String(), Type.Null()]) })),
  active: Type.Boolean(),
  max_in_flight: Type.Integer(),
  disable_after_failures: Type.Union([Type.Integer(), Type.Null()]),
  health: Type.Object({
    state: Type.String({ description: 'healthy, failing or disabled' }),
    failure_streak: Type.Integer(),
    failing_since: Type.Union([Timestamp, Type.Null()]),
    disabled_at: Type.Union([Timestamp, Type.Null()]),
    disabled_reason: Type.Union([Type.String(), Type.Null()]),
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const ChannelWithSecret = Type.Composite([Channel, Type.Object({ secret: Type.Optional(Type.String({ description: 'Shown only in this response' })) })]);
export const NewNotification = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 500 }),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    scope: Type.Optional(Scope),
    triggers: Type.Array(Trigger, { minItems: 1, maxItems: 50 }),
    active: Type.Optional(Type.Boolean()),
    channels: Type.Optional(Type.Array(ChannelInput, { maxItems: 50 })),
  },
  strict,
);
export const NotificationPatch = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    scope: Type.Optional(Scope),
    triggers: Type.Optional(Type.Array(Trigger, { minItems: 1, maxItems: 50 })),
    active: Type.Optional(Type.Boolean()),
  },
  { ...strict, minProperties: 1 },
);
const notificationFields = {
  id: Id,
  title: Type.String(),
  description: Type.String(),
  scope: Type.Object({ projects: Type.Union([Type.Literal('all'), Type.Array(Id)]) }),
  triggers: Type.Array(
    Type.Union([
      Type.String(),
      Type.Object({ event: Type.String(), from: Type.Optional(Type.Array(Type.String())), to: Type.Optional(Type.Array(Type.String())) }),
      Type.Object({ digest: Type.Object({ cron: Type.Optional(Type.String()), tz: Type.Optional(Type.String()), window_hours: Type.Optional(Type.Integer()), send_empty: Type.Optional(Type.Boolean()) }) }),
    ]),
  ),
  active: Type.Boolean(),
  origin: Type.String({ description: 'How it was declared: notification, stage, label-studio or superannotate' }),
  stage_id: Type.Union([Id, Type.Null()]),
  created_by: Type.Union([Id, Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
};
export const Notification = Type.Object({ ...notificationFields, channels: Type.Array(Channel) });
export const CreatedNotification = Type.Object({ ...notificationFields, channels: Type.Array(ChannelWithSecret) });

export const DeliveryStatus = literalUnion(DELIVERY_STATUSES);
export const Delivery = Type.Object({
  id: Id,
  notification: Id,
  channel: Id,
  event_id: Type.Union([Type.String(), Type.Null()]),
  event_type: Type.String(),
  status: Type.String({ description: 'pending, sending, succeeded, failed (dead-lettered) or cancelled' }),
  attempt_count: Type.Integer(),
  next_attempt_at: Type.Union([Timestamp, Type.Null()]),
  last_status: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  completed_at: Type.Union([Timestamp, Type.Null()]),
});
export const Attempt = Type.Object({
  id: Id,
  attempt_no: Type.Integer(),
  started_at: Timestamp,
  latency_ms: Type.Number(),
  url: Type.String(),
  request_headers: Type.Record(Type.String(), Type.String()),
  request_body: Type.String(),
  response_status: Type.Union([Type.Integer(), Type.Null()]),
  response_body: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  worker: Type.String({ description: 'The worker process that made the attempt' }),
  error_kind: Type.Union([Type.String({ description: 'timeout, connection_refused, connection_reset, tls, dns, status, ssrf_blocked or other' }), Type.Null()]),
  error_message: Type.Union([Type.String(), Type.Null()]),
});
export const DeliveryWithAttempts = Type.Composite([Delivery, Type.Object({ attempts: Type.Array(Attempt) })]);
export const DeliveryQuery = Type.Object(
  {
    ...PageQuery,
    notification_id: Type.Optional(Id),
    channel_id: Type.Optional(Id),
    status: Type.Optional(DeliveryStatus),
    event_type: Type.Optional(Type.String({ maxLength: 100 })),
    since: Type.Optional(Timestamp),
    until: Type.Optional(Timestamp),
  },
  strict,
);
export const Recover = Type.Object({ since: Timestamp }, strict);

// --- Label Studio webhooks and SuperAnnotate pipelines
export const LsAction = literalUnion(LS_ACTIONS);
const lsFields = {
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  project: Type.Optional(Type.Union([Id, Type.Null()], { description: 'Absent or null: an organization-level webhook' })),
  headers: Type.Optional(HeaderMap),
  send_payload: Type.Optional(Type.Boolean()),
  send_for_all_actions: Type.Optional(Type.Boolean()),
  actions: Type.Optional(Type.Array(LsAction, { maxItems: 20 })),
  is_active: Type.Optional(Type.Boolean()),
};
export const NewLsWebhook = Type.Object(lsFields, strict);
export const LsWebhookPatch = Type.Object({ ...lsFields, url: Type.Optional(lsFields.url) }, { ...strict, minProperties: 1 });
export const LsWebhook = Type.Object({
  id: Id,
  organization: Id,
  project: Type.Union([Id, Type.Null()]),
  url: Type.String(),
  send_payload: Type.Boolean(),
  send_for_all_actions: Type.Boolean(),
  headers: Type.Record(Type.String(), Type.String()),
  is_active: Type.Boolean(),
  actions: Type.Array(Type.String()),
  created_at: Timestamp,
  updated_at: Timestamp,
});

