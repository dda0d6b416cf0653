// Posting to Slack, the two ways real Slack users expect: an incoming-webhook URL, or a bot
// token with chat.postMessage to a channel id. The Slack API base URL is a setting, so tests
// point it at a local fake. Requests go through the same SSRF-guarded client as webhooks.
import type { SlackMessage } from '../model/messages.js';
import type { WebhookSender } from './webhook.js';
import type { SendResult } from '../model/send-result.js';

export type SlackTarget = { via: 'webhook'; url: string } | { via: 'bot'; token: string; channel: string };

export interface SlackPost {
  url: string;
  /** What the attempt log shows instead of the URL (an incoming-webhook URL is a secret). */
  shownUrl: string;
  headers: Record<string, string>;
  body: string;
}

export function slackRequest(target: SlackTarget, msg: SlackMessage, apiUrl: string): SlackPost {
  if (target.via === 'webhook') {
    return { url: target.url, shownUrl: 'slack:incoming-webhook', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: msg.text, blocks: msg.blocks }) };
  }
  return {
    url: `${apiUrl}/chat.postMessage`,
    shownUrl: `${apiUrl}/chat.postMessage`,
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${target.token}` },
    body: JSON.stringify({ channel: target.channel, text: msg.text, blocks: msg.blocks }),
  };
}

/** Slack answers 200 with {"ok": false, "error": …} for many failures; those are failures too. */
export async function postSlack(sender: WebhookSender, req: SlackPost, signal?: AbortSignal): Promise<SendResult> {
  const r = await sender.send(req.url, req.headers, req.body, signal);
  if (!r.ok || !req.url.endsWith('/chat.postMessage')) return r;
  try {
    const json = JSON.parse(r.responseBody ?? '{}') as { ok?: boolean; error?: string };
    if (json.ok === false) return { ...r, ok: false, errorKind: 'status', errorMessage: `Slack API error: ${json.error ?? 'unknown'}` };
  } catch {
    return { ...r, ok: false, errorKind: 'other', errorMessage: 'Slack API answered something that is not JSON' };
  }
  return r;
}

/**
 * Which Slack conversation a channel posts to, for rate limits: Slack limits per
 * conversation, so Labelcast channels that post to the same one share its Retry-After.
 * A bot channel is its workspace and channel id; an incoming webhook is its URL.
 */
export function slackDestination(cfg: { via: 'webhook'; url: string } | { via: 'bot'; channel_id: string }, teamId: string | null): string {
  return cfg.via === 'webhook' ? `webhook:${cfg.url}` : `bot:${teamId ?? '?'}:${cfg.channel_id}`;
}
