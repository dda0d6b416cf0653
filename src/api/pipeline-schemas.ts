// Schemas of /v1/pipelines, /v1/hooks, /v1/actions and /v1/secrets (issue 13), kept apart
// from schemas.ts so the pipeline API reads in one place.
import { Type } from '@sinclair/typebox';
import { EVENT_TYPES } from '../model/event.js';
import { ANNOTATION_STATUS_CHANGED, FIRED_KINDS } from '../model/triggers.js';
import { RUN_STATUSES } from '../domain/action-runs.js';
import { Id, PageQuery, Timestamp } from './schemas.js';

const strict = { additionalProperties: false } as const;
const literalUnion = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

const Values = Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 20 });

export const PipelineTrigger = Type.Object(
  {
    event: literalUnion([...EVENT_TYPES, ANNOTATION_STATUS_CHANGED, ...FIRED_KINDS] as const, 'An event type; task.annotation_status_changed (SuperAnnotate "Annotation status updated"); or incoming_webhook, periodic, manual'),
    from: Type.Optional({ ...Values, description: 'project.status_changed, task.annotation_status_changed: only from these values' }),
    to: Type.Optional({ ...Values, description: 'project.status_changed, task.annotation_status_changed: only to these values' }),
    cron: Type.Optional(Type.String({ minLength: 9, maxLength: 100, description: 'periodic: a 5-field cron expression' })),
    tz: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'periodic: an IANA time zone (default UTC)' })),
  },
  strict,
);

const Limits = Type.Object(
  {
    memory_mb: Type.Optional(Type.Integer({ minimum: 16, maximum: 1024 })),
    cpu_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 3_600_000 })),
    wall_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 3 * 3_600_000 })),
  },
  strict,
);

const Args = Type.Object({}, { additionalProperties: true, maxProperties: 50, description: 'Custom arguments added to the event object' });

export const ActionInput = Type.Union([
  Type.Object(
    {
      type: Type.Literal('send_webhook'),
      request_url: Type.String({ minLength: 1, maxLength: 2048 }),
      secret: Type.Optional(Type.String({ minLength: 8, maxLength: 200, description: 'HMAC key for X-Authorization-Content-SHA256' })),
      is_active: Type.Optional(Type.Boolean()),
    },
    strict,
  ),
  Type.Object({ type: Type.Literal('send_email'), recipients: Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { minItems: 1, maxItems: 50 }), is_active: Type.Optional(Type.Boolean()) }, strict),
  Type.Object(
    {
      type: Type.Literal('custom_action'),
      language: literalUnion(['javascript', 'python'] as const),
      code: Type.String({ minLength: 1, maxLength: 200_000, description: 'Defines handler(event, context)' }),
      args: Type.Optional(Args),
      secret: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()], { description: 'The name of a secret set (POST /v1/secrets) to mount' })),
      limits: Type.Optional(Limits),
      ttl_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 3 * 3600, description: 'Seconds a run may stay pending or running (default 3 h, seed 004)' })),
      is_active: Type.Optional(Type.Boolean()),
    },
    strict,
  ),
]);

export const ActionPatch = Type.Object(
  {
    is_active: Type.Optional(Type.Boolean()),
    request_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    recipients: Type.Optional(Type.Array(Type.String({ minLength: 3, maxLength: 320 }), { minItems: 1, maxItems: 50 })),
    code: Type.Optional(Type.String({ minLength: 1, maxLength: 200_000 })),
    args: Type.Optional(Args),
    secret: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
    limits: Type.Optional(Limits),
    ttl_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 3 * 3600 })),
  },
  { ...strict, minProperties: 1 },
);

export const NewPipeline = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 500 }),
    project: Type.Optional(Type.Union([Id, Type.Null()])),
    trigger: PipelineTrigger,
    action: Type.Optional(ActionInput),
    actions: Type.Optional(Type.Array(ActionInput, { minItems: 1, maxItems: 10 })),
    is_active: Type.Optional(Type.Boolean()),
  },
  strict,
);

export const PipelinePatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    project: Type.Optional(Type.Union([Id, Type.Null()])),
    trigger: Type.Optional(PipelineTrigger),
    is_active: Type.Optional(Type.Boolean()),
  },
  { ...strict, minProperties: 1 },
);

export const Action = Type.Object({
  id: Id,
  channel: Id,
  pipeline: Id,
  type: Type.String({ description: 'send_webhook, send_email or custom_action' }),
  is_active: Type.Boolean(),
  request_url: Type.Optional(Type.String()),
  signed: Type.Optional(Type.Boolean()),
  recipients: Type.Optional(Type.Array(Type.String())),
  language: Type.Optional(Type.String()),
  code: Type.Optional(Type.String()),
  args: Type.Optional(Type.Object({}, { additionalProperties: true })),
  secret: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  limits: Type.Optional(Type.Object({ memory_mb: Type.Integer(), cpu_ms: Type.Integer(), wall_ms: Type.Integer() })),
  ttl_s: Type.Optional(Type.Integer()),
});

export const Pipeline = Type.Object({
  id: Id,
  name: Type.String(),
  project: Type.Union([Id, Type.Null()]),
  trigger: Type.Object({
    event: Type.String(),
    from: Type.Optional(Type.Array(Type.String())),
    to: Type.Optional(Type.Array(Type.String())),
    cron: Type.Optional(Type.String()),
    tz: Type.Optional(Type.String()),
  }),
  action: Type.Union([Action, Type.Null()]),
  actions: Type.Array(Action),
  is_active: Type.Boolean(),
  hook: Type.Optional(Type.Object({ url: Type.String(), header: Type.String(), token_prefix: Type.String() })),
  hook_token: Type.Optional(Type.String({ description: 'incoming_webhook: the token, shown this once' })),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const Fired = Type.Object({ event_id: Type.String(), deliveries: Type.Array(Id, { description: 'One delivery (run) per active action' }) });

export const Run = Type.Object({
  id: Id,
  action: Id,
  pipeline: Id,
  status: literalUnion(RUN_STATUSES),
  trigger: Type.String(),
  input: Type.Unknown(),
  output: Type.Unknown(),
  error: Type.Union([Type.String(), Type.Null()]),
  logs: Type.Union([Type.String(), Type.Null()]),
  duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  attempts: Type.Integer(),
  created_at: Timestamp,
  started_at: Type.Union([Timestamp, Type.Null()]),
  finished_at: Type.Union([Timestamp, Type.Null()]),
});

export const RunQuery = Type.Object({ ...PageQuery, status: Type.Optional(literalUnion(RUN_STATUSES)) }, strict);
export const RunParams = Type.Object({ id: Id, run_id: Id }, strict);

const SecretValues = Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 8192 }), { description: 'Key/value pairs; never returned' });
export const NewSecretSet = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$' }), values: SecretValues }, strict);
export const SecretSetValues = Type.Object({ values: SecretValues }, strict);
export const SecretSet = Type.Object({ id: Id, name: Type.String(), keys: Type.Array(Type.String()), created_at: Timestamp, updated_at: Timestamp });
