// Adding a channel to a notification: a webhook (URL, headers, dialect, signing secret), an
// email channel (recipients) or a Slack channel (an incoming webhook or a connected
// workspace's channel); pipelines add custom-action channels through insertPlainChannel.
// The caller has checked the notification exists and may be changed.
import type { Ctx } from './context.js';
import { seal } from '../store/seal.js';
import { sealConfig } from '../store/sealed.js';
import { AppError } from '../model/errors.js';
import { checkHeaders, checkRecipients, type EmailConfig, type SlackConfig, type WebhookConfig } from '../model/channel-config.js';
import type { ChannelInput, SlackChannelInput, WebhookChannelInput } from '../model/channel-inputs.js';
import { secretFor } from '../model/webhook-secrets.js';
import type { Trigger } from '../model/triggers.js';
import { checkDialectTriggers, checkUrl } from './channel-checks.js';
import { channelView, type ChannelView, type WithSecret } from './notification-views.js';

async function channelTriggers(ctx: Ctx, notificationId: number, triggers?: Trigger[]): Promise<Trigger[]> {
  if (triggers) return triggers;
  const n = await ctx.trx.selectFrom('notifications').select('triggers').where('id', '=', notificationId).executeTakeFirstOrThrow();
  return JSON.parse(n.triggers) as Trigger[];
}

/** triggers: the notification's, when the caller has them (else they are read). */
export async function insertChannel(ctx: Ctx, notificationId: number, input: ChannelInput, triggers?: Trigger[]): Promise<WithSecret<ChannelView>> {
  if (input.type === 'email') return insertPlainChannel(ctx, notificationId, 'email', { recipients: checkRecipients(input.recipients) } satisfies EmailConfig, input.active, 0);
  if (input.type === 'slack') {
    await channelTriggers(ctx, notificationId, triggers);
    // Slack asks for about one message per second per channel.
    return insertPlainChannel(ctx, notificationId, 'slack', await slackConfig(ctx, input), input.active, 1000);
  }
  return insertWebhook(ctx, notificationId, input, await channelTriggers(ctx, notificationId, triggers));
}

async function slackConfig(ctx: Ctx, input: SlackChannelInput): Promise<SlackConfig> {
  if ((input.webhook_url === undefined) === (input.channel === undefined)) {
    throw new AppError('validation_failed', 'A Slack channel needs either webhook_url (an incoming webhook) or channel (a channel id of a workspace you connected), not both.');
  }
  if (input.webhook_url !== undefined) return { via: 'webhook', url: checkUrl(ctx, input.webhook_url) };
  // The user's connected workspaces' channels are shared by all of that user's notifications.
  const ch = await ctx.trx
    .selectFrom('slack_channels')
    .innerJoin('slack_connections', 'slack_connections.id', 'slack_channels.connection_id')
    .select(['slack_channels.connection_id', 'slack_channels.channel_id', 'slack_channels.name', 'slack_connections.team_name'])
    .where('slack_channels.org_id', '=', ctx.actor.org_id)
    .where('slack_channels.user_id', '=', ctx.actor.user_id)
    .where('slack_channels.channel_id', '=', input.channel!)
    .executeTakeFirst();
  if (!ch) throw new AppError('validation_failed', `Slack channel ${input.channel} is not among your connected channels; connect the workspace (GET /v1/slack/install) or refresh its channels (POST /v1/slack/channels/refresh).`);
  return { via: 'bot', connection_id: ch.connection_id, channel_id: ch.channel_id, channel_name: ch.name, team_name: ch.team_name };
}

/** A new channel's row: healthy, with its config sealed at rest and no previous secret. */
function newChannel(
  ctx: Ctx,
  notificationId: number,
  kind: string,
  config: object,
  f: { secret: string | null; active: boolean | undefined; max_in_flight: number; disable_after_failures: number | null },
) {
  return {
    org_id: ctx.actor.org_id,
    notification_id: notificationId,
    kind,
    config: sealConfig(ctx.svc.ring, kind, config),
    secret: f.secret,
    previous_secret: null,
    previous_secret_until: null,
    active: f.active === false ? 0 : 1,
    max_in_flight: f.max_in_flight,
    disable_after_failures: f.disable_after_failures,
    failure_streak: 0,
    first_failure_at: null,
    disabled_at: null,
    disabled_reason: null,
    created_at: ctx.now,
    updated_at: ctx.now,
  };
}

/** A channel without a signing secret: email, Slack, or a pipeline's custom action. */
export async function insertPlainChannel(ctx: Ctx, notificationId: number, kind: 'email' | 'slack' | 'action', config: object, active: boolean | undefined, minIntervalMs: number, maxInFlight?: number): Promise<ChannelView> {
  const row = await ctx.trx
    .insertInto('channels')
    .values({
      ...newChannel(ctx, notificationId, kind, config, {
        secret: null,
        active,
        max_in_flight: maxInFlight ?? (kind === 'slack' ? 1 : ctx.svc.delivery.maxInFlight),
        disable_after_failures: null,
      }),
      min_interval_ms: minIntervalMs,
      last_sent_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return channelView(row, ctx.svc.ring);
}

async function insertWebhook(ctx: Ctx, notificationId: number, input: WebhookChannelInput, triggers: Trigger[]): Promise<WithSecret<ChannelView>> {
  const url = checkUrl(ctx, input.url);
  const headers = checkHeaders(input.headers ?? {});
  const d = input.dialect ?? 'standard';
  const secret = secretFor(d, input.secret);
  checkDialectTriggers(d, triggers);
  if (input.send_payload !== undefined && d !== 'label-studio') throw new AppError('validation_failed', 'send_payload applies to the label-studio dialect only.');
  const config: WebhookConfig = { url, dialect: d, headers, ...(input.send_payload === false ? { send_payload: false } : {}) };
  const row = await ctx.trx
    .insertInto('channels')
    .values(
      newChannel(ctx, notificationId, input.type, config, {
        secret: secret === null ? null : seal(ctx.svc.ring, secret),
        active: input.active,
        max_in_flight: input.max_in_flight ?? ctx.svc.delivery.maxInFlight,
        disable_after_failures: input.disable_after_failures ?? null,
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  const view: WithSecret<ChannelView> = channelView(row, ctx.svc.ring);
  if (secret) view.secret = secret;
  return view;
}
