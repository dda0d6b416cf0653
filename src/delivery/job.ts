// What flows between the delivery stages: claim -> prepare (a Job per claimed delivery) ->
// send (a Sent per Job: what went out and what came back) -> record (a Completion per
// attempt, written in batches).
import type { Selectable } from 'kysely';
import type { RenderContext } from '../dialects/index.js';
import type { CanonicalEvent } from '../model/event.js';
import type { SendResult } from '../model/send-result.js';
import type { SlackConfig, WebhookConfig } from '../model/channel-config.js';
import type { ChannelTable, DeliveryTable } from '../store/schema.js';
import type { Services } from '../domain/context.js';
import type { ActionRunner } from '../model/action-run.js';
import type { EmailSender } from '../transports/email.js';
import type { WebhookSender } from '../transports/webhook.js';

/** A channel's secrets opened (they are sealed at rest, store/sealed.ts), once per claim. */
export interface OpenedChannel {
  /** Signing secrets in force at claim time, newest first. */
  secrets: (string | null)[];
  config: WebhookConfig | SlackConfig;
}

export interface Job {
  delivery: Selectable<DeliveryTable>;
  channel: Selectable<ChannelTable>;
  opened: OpenedChannel | Error;
  event: CanonicalEvent;
  context: RenderContext;
  /** The dispatcher's stop signal, shared by all its jobs: aborts requests and runs in flight. */
  signal: AbortSignal;
}

/** The opened channel, or the reason it could not be opened (a key missing from the ring). */
export function opened(job: Job): OpenedChannel {
  if (job.opened instanceof Error) throw job.opened;
  return job.opened;
}

/** One attempt as the attempt log keeps it. */
export interface Sent {
  /** Where it went: the URL, the SMTP server or outbox, the Slack API, action:<language>. */
  url: string;
  headers: Record<string, string>;
  body: string;
  result: SendResult;
  /** Custom actions: what the handler printed. */
  logs?: string | null;
  /** The outcome is final even though it failed (a handler's own error: user code is not retried). */
  final?: boolean;
  /**
   * The kept body format (dialects/dialect.ts KeptBody) that gives this body again from the
   * delivery's stored event: the attempt log stores its name instead of the body
   * (store/migrations.ts, 0009).
   */
  bodyFrom?: string;
}

export interface Completion extends Sent {
  job: Job;
  startedAt: number;
  /** Times recording it failed on its own (see record.ts). */
  failures: number;
  lastError?: unknown;
}

/** A failed attempt that never reached a transport (composing it failed, no runner, ...). */
export function failedBeforeSending(url: string, message: string, body = ''): Sent {
  return { url, headers: {}, body, result: { ok: false, status: null, responseBody: null, latencyMs: 0, errorKind: 'other', errorMessage: message, retryAfterMs: null } };
}

/** What the send stage sends with: the transports of this process. */
export interface Senders {
  svc: Services;
  webhook: WebhookSender;
  email: EmailSender;
  /** Runs custom actions (the sandbox); absent: their runs fail with "no runner". */
  actionRunner: ActionRunner | undefined;
  workerId: string;
}
