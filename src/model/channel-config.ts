// A notification's channels: what a channel row keeps in `config` per kind, and the pure
// checks on headers and recipients. What a user sends is model/channel-inputs.ts.
// The checks that need the organization or the network (URL targets, Slack channels,
// dialect support) are in domain/channel-checks.ts.
import { AppError } from './errors.js';
import type { DialectName } from './dialect-names.js';

// --- the stored config of each kind

export interface WebhookConfig {
  url: string;
  dialect: DialectName;
  headers: Record<string, string>;
  send_payload?: boolean;
}

export interface EmailConfig {
  recipients: string[];
}

/** A custom action's channel config: everything a run needs but the secret values. */
export interface ActionConfig {
  language: 'javascript' | 'python';
  code: string;
  args: Record<string, unknown>;
  secret: string | null;
  limits: { memory_mb: number; cpu_ms: number; wall_ms: number };
  ttl_ms: number;
}

export type SlackConfig =
  | { via: 'webhook'; url: string }
  | { via: 'bot'; connection_id: number; channel_id: string; channel_name: string; team_name: string };

// --- custom headers

// Headers a dialect owns or HTTP itself needs: a custom header may not replace them, so a
// receiver can always trust the signature and framing it sees.
export const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'x-authorization-content-sha256',
  'x-event',
  'x-delivery',
]);
export const MAX_HEADERS = 10;
const HEADER_NAME = /^[A-Za-z0-9_-]+$/;

export function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) throw new AppError('validation_failed', `headers may have at most ${MAX_HEADERS} entries.`);
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) throw new AppError('validation_failed', `header name '${name}' may only use letters, digits, '-' and '_'.`);
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) throw new AppError('validation_failed', `header '${name}' is set by Labelcast itself (signatures and framing) and cannot be overridden.`);
    if (seen.has(lower)) throw new AppError('validation_failed', `header '${name}' is given twice.`);
    seen.add(lower);
    // CR, LF and NUL would let a value start a new header or request (header injection).
    if (/[\r\n\0]/.test(value)) throw new AppError('validation_failed', `header '${name}' has a line break or NUL in its value.`);
  }
  return headers;
}

// --- email recipients

export const MAX_RECIPIENTS = 50;

export function checkRecipients(list: string[]): string[] {
  const out = [...new Set(list.map((r) => r.trim().toLowerCase()))];
  if (out.length === 0 || out.length > MAX_RECIPIENTS) throw new AppError('validation_failed', `recipients must list 1 to ${MAX_RECIPIENTS} email addresses.`);
  for (const r of out) {
    if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(r)) throw new AppError('validation_failed', `recipient '${r}' is not an email address.`);
  }
  return out;
}
