// Schemas of /v1/pipelines, /v1/hooks, /v1/actions and /v1/secrets (issue 13), kept apart
// from schemas.ts so the pipeline API reads in one place.
import { Type } from '@sinclair/typebox';
import { RUN_STATUSES } from '../domain/action-runs.js';
import { Id, PageQuery, Timestamp } from './schemas.js';
import { ActionInput, ActionPatch, NewPipeline, PipelinePatch, PipelineTrigger } from '../model/pipeline-inputs.js';

// The pipeline and action request schemas live with the domain's input types (model/pipeline-inputs.ts).
export { ActionInput, ActionPatch, NewPipeline, PipelinePatch, PipelineTrigger };

import { literalUnion, strict } from '../model/json-schema.js';

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
