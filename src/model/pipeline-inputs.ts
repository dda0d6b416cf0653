// What a user sends to create or change a pipeline or an action (/v1/pipelines,
// /v1/actions): the TypeBox schemas that validate the request and document it in
// /openapi.json, and the domain's input types derived from them (Static<>), so the two
// cannot drift. The stored trigger is checked by model/trigger-checks.ts.
import { Type, type Static } from '@sinclair/typebox';
import { EVENT_TYPES } from './event.js';
import { ANNOTATION_STATUS_CHANGED, FIRED_KINDS } from './triggers.js';
import { Id, literalUnion, strict } from './json-schema.js';

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

export const Limits = Type.Object(
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

export type PipelineTrigger = Static<typeof PipelineTrigger>;
export type Limits = Static<typeof Limits>;
export type ActionInput = Static<typeof ActionInput>;
export type ActionPatch = Static<typeof ActionPatch>;
export type NewPipeline = Static<typeof NewPipeline>;
export type PipelinePatch = Static<typeof PipelinePatch>;
