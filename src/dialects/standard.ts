// The "standard" dialect: Standard Webhooks (standardwebhooks.com). Body {type, timestamp,
// data}; headers webhook-id, webhook-timestamp and webhook-signature, where the signature is
// "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")) and key is the base64 part of
// the "whsec_" secret. During a rotation both secrets sign: "v1,<new> v1,<old>".
import crypto from 'node:crypto';
import type { CanonicalEvent } from '../model/event.js';
import { PROJECT_STATE_KEY, type Dialect, type Rendered } from './dialect.js';

export function standardData(ev: CanonicalEvent): Record<string, unknown> {
  const { [PROJECT_STATE_KEY]: _state, ...rest } = ev.data;
  const data: Record<string, unknown> = { event_id: ev.id, project_id: ev.project_id, actor: ev.actor, ...rest };
  if (ev.before !== undefined) data.before = ev.before;
  if (ev.after !== undefined) data.after = ev.after;
  return data;
}

export function sign(secret: string, id: string, timestampSec: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${timestampSec}.${body}`).digest('base64');
}

/** webhook-id, webhook-timestamp and (with secrets) webhook-signature for a body. */
export function standardHeaders(id: string, sentAtMs: number, body: string, secrets: string[]): Record<string, string> {
  const ts = Math.floor(sentAtMs / 1000);
  const headers: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': String(ts) };
  if (secrets.length > 0) headers['webhook-signature'] = secrets.map((s) => sign(s, id, ts, body)).join(' ');
  return headers;
}

export function renderStandardBody(ev: CanonicalEvent): string {
  // A ping's data is its own; an event's is its data plus who, where and the snapshots.
  const data = ev.type === 'ping' || ev.type === 'digest' ? ev.data : standardData(ev);
  return JSON.stringify({ type: ev.type, timestamp: ev.occurred_at, data });
}

export const standard: Dialect = {
  name: 'standard',
  supports: () => true,
  parts: () => 1,
  render({ event, sentAt, secrets }): Rendered {
    const body = renderStandardBody(event);
    // The event id is the message id: the same on every retry, so receivers can de-duplicate.
    return { body, headers: { 'content-type': 'application/json', ...standardHeaders(event.id, sentAt, body, secrets) } };
  },
};
