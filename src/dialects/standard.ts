// The "standard" dialect: Standard Webhooks (standardwebhooks.com). Body {type, timestamp,
// data}; headers webhook-id, webhook-timestamp and webhook-signature, where the signature is
// "v1," + base64(HMAC-SHA256(key, "<id>.<timestamp>.<body>")) and key is the base64 part of
// the "whsec_" secret. During a rotation both secrets sign: "v1,<new> v1,<old>".
import crypto from 'node:crypto';
import type { CanonicalEvent } from '../domain/events.js';

export interface Rendered {
  headers: Record<string, string>;
  body: string;
}

export interface Message {
  /** Stable across retries of the same message, so receivers can de-duplicate. */
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export function messageFromEvent(ev: CanonicalEvent): Message {
  const data: Record<string, unknown> = {
    event_id: ev.id,
    project_id: ev.project_id,
    actor: ev.actor,
    ...ev.data,
  };
  if (ev.before !== undefined) data.before = ev.before;
  if (ev.after !== undefined) data.after = ev.after;
  return { id: ev.id, type: ev.type, timestamp: ev.occurred_at, data };
}

export function sign(secret: string, id: string, timestampSec: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${timestampSec}.${body}`).digest('base64');
}

/** Renders one message; `secrets` are the signing secrets in force (newest first). */
export function renderStandard(msg: Message, secrets: string[], sentAtMs: number): Rendered {
  const body = JSON.stringify({ type: msg.type, timestamp: msg.timestamp, data: msg.data });
  const ts = Math.floor(sentAtMs / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'webhook-id': msg.id,
    'webhook-timestamp': String(ts),
  };
  if (secrets.length > 0) headers['webhook-signature'] = secrets.map((s) => sign(s, msg.id, ts, body)).join(' ');
  return { headers, body };
}
