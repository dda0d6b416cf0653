// The render and send stages for one job: a webhook is rendered by its dialect and signed,
// email and Slack messages are composed (compose.ts), custom actions run in the sandbox
// (run-action.ts); then the transport sends it. What went out is returned for the attempt
// log, with custom header values masked.
import { type SlackConfig, type WebhookConfig } from '../model/channel-config.js';
import { maskValue } from '../model/header-masking.js';
import { dialect } from '../dialects/index.js';
import { openOrPlain } from '../store/seal.js';
import { postSlack, slackRequest, type SlackTarget } from '../transports/slack.js';
import { composeEmail, composeSlack } from './compose.js';
import { failedBeforeSending, opened, type Job, type Senders, type Sent } from './job.js';
import { runAction } from './run-action.js';

export async function send(s: Senders, job: Job, startedAt: number): Promise<Sent> {
  try {
    switch (job.channel.kind) {
      case 'email':
        return await sendEmail(s, job);
      case 'slack':
        return await sendSlack(s, job);
      case 'action':
        return await runAction(s, job);
      default:
        return await sendWebhook(s, job, startedAt);
    }
  } catch (err) {
    // Composing the message failed (its data went missing meanwhile): a failed attempt,
    // recorded and retried like any other, never an unhandled rejection.
    return failedBeforeSending(job.channel.kind, (err as Error).message ?? String(err));
  }
}

async function sendWebhook(s: Senders, job: Job, startedAt: number): Promise<Sent> {
  const o = opened(job);
  const cfg = o.config as WebhookConfig;
  const secrets = [o.secrets[0] ?? null, job.channel.previous_secret_until !== null && job.channel.previous_secret_until > startedAt ? (o.secrets[1] ?? null) : null].filter(
    (x): x is string => x !== null,
  );
  const d = dialect(cfg.dialect);
  const rendered = d.render({
    event: job.event,
    part: job.delivery.part,
    deliveryId: job.delivery.id,
    sentAt: startedAt,
    secrets,
    options: { send_payload: cfg.send_payload !== false },
    context: job.context,
    encordSource: s.svc.delivery.encordSource,
  });
  const headers = { ...cfg.headers, ...rendered.headers };
  const result = await s.webhook.send(cfg.url, headers, rendered.body, job.signal);
  // Custom header values are sealed at rest: the attempt record keeps them masked whatever
  // their name, or the attempts table would hold them in clear (issue 10 defect 4).
  const recorded = { ...Object.fromEntries(Object.entries(cfg.headers).map(([k, v]) => [k, maskValue(v)])), ...rendered.headers };
  // A body that is the stored event's rendering is kept by reference (a synthetic event, a
  // ping's, has no row to render it from again).
  const bodyFrom = d.keptBody && job.delivery.event_id !== null ? d.keptBody.name : undefined;
  return { url: cfg.url, headers: recorded, body: rendered.body, result, ...(bodyFrom ? { bodyFrom } : {}) };
}

async function sendEmail(s: Senders, job: Job): Promise<Sent> {
  const { to, mail } = await composeEmail(s.svc, job);
  const result = await s.email.send({ ...mail, to }, { orgId: job.delivery.org_id, deliveryId: job.delivery.id });
  return { url: s.email.target, headers: { to: to.join(', '), subject: mail.subject }, body: mail.text, result };
}

async function sendSlack(s: Senders, job: Job): Promise<Sent> {
  const cfg = opened(job).config as SlackConfig;
  const msg = await composeSlack(s.svc, job);
  let target: SlackTarget;
  if (cfg.via === 'webhook') target = { via: 'webhook', url: cfg.url };
  else {
    const conn = await s.svc.store.db.selectFrom('slack_connections').select('bot_token').where('id', '=', cfg.connection_id).executeTakeFirst();
    if (!conn) throw new Error('the Slack workspace of this channel was disconnected; connect it again');
    target = { via: 'bot', token: openOrPlain(s.svc.ring, conn.bot_token), channel: cfg.channel_id };
  }
  const req = slackRequest(target, msg, s.svc.messaging.slackApiUrl);
  const result = await postSlack(s.webhook, req, job.signal);
  return { url: req.shownUrl, headers: req.headers, body: req.body, result };
}
