// What a user sends to add or change a channel (POST /v1/notifications/{id}/channels, PATCH
// /v1/channels/{id}, a notification's `channels`): the TypeBox schemas that validate the
// request and document it in /openapi.json, and the domain's input types derived from them
// (Static<>), so the two cannot drift. The stored form of each kind is model/channel-config.ts.
import { Type, type Static } from '@sinclair/typebox';
import { DIALECT_NAMES } from './dialect-names.js';
import { literalUnion, strict } from './json-schema.js';

export const HeaderMap = Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 2000 }), { description: 'Custom headers sent with every request (at most 10)' });
export const WebhookChannelInput = Type.Object(
  {
    type: literalUnion(['webhook'] as const),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    dialect: Type.Optional(literalUnion(DIALECT_NAMES)),
    send_payload: Type.Optional(Type.Boolean({ description: 'label-studio dialect: false sends only {"action": …}' })),
    secret: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 200 })], { description: 'Standard dialect: omitted or true generates a whsec_ secret (returned once); your own whsec_ secret; or false for unsigned deliveries' })),
    headers: Type.Optional(HeaderMap),
    active: Type.Optional(Type.Boolean()),
    max_in_flight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Requests in flight at most, across all workers (default 32)' })),
    disable_after_failures: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()])),
  },
  strict,
);
export const EmailChannelInput = Type.Object(
  {
    type: literalUnion(['email'] as const),
    recipients: Type.Array(Type.String({ format: 'email', maxLength: 254 }), { minItems: 1, maxItems: 50 }),
    active: Type.Optional(Type.Boolean()),
  },
  strict,
);
export const SlackChannelInput = Type.Object(
  {
    type: literalUnion(['slack'] as const),
    webhook_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, description: 'A Slack incoming-webhook URL' })),
    channel: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'A channel id from GET /v1/slack/channels' })),
    active: Type.Optional(Type.Boolean()),
  },
  strict,
);
// Discriminated by "type"; ajv reports the branch's own error through the discriminator.
// type: object first: ajv's discriminator reads data.type unguarded, so a null channel (or
// `channels: [null]`) threw a TypeError, a 500 (issue 10).
export const ChannelInput = Type.Unsafe<Static<typeof WebhookChannelInput> | Static<typeof EmailChannelInput> | Static<typeof SlackChannelInput>>({
  type: 'object',
  oneOf: [WebhookChannelInput, EmailChannelInput, SlackChannelInput],
  discriminator: { propertyName: 'type' },
});
export const ChannelPatch = Type.Object(
  {
    url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    headers: Type.Optional(HeaderMap),
    active: Type.Optional(Type.Boolean()),
    max_in_flight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    disable_after_failures: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()])),
  },
  { ...strict, minProperties: 1 },
);

export type WebhookChannelInput = Static<typeof WebhookChannelInput>;
export type EmailChannelInput = Static<typeof EmailChannelInput>;
export type SlackChannelInput = Static<typeof SlackChannelInput>;
export type ChannelInput = Static<typeof ChannelInput>;
export type ChannelPatch = Static<typeof ChannelPatch>;
