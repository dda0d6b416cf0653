// Email over SMTP (nodemailer), or, with no SMTP configured, into the local outbox table
// that GET /v1/outbox shows: a new user sees what would have been sent, and nothing is lost.
import nodemailer from 'nodemailer';
import type { ErrorKind, SendResult } from '../model/send-result.js';
import type { Email } from '../model/messages.js';

export interface EmailSender {
  /** Where messages go, for the attempt log: smtp://host:port, or "outbox". */
  target: string;
  send(msg: Email & { to: string[] }, meta: { orgId: number; deliveryId: number }): Promise<SendResult>;
  close(): Promise<void>;
}

/** A message kept instead of sent when no SMTP server is configured (the outbox table). */
export interface KeptEmail {
  orgId: number;
  deliveryId: number;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

export function createEmailSender(opts: { smtpUrl: string | undefined; from: string; keep: (msg: KeptEmail) => Promise<void>; timeoutMs: number }): EmailSender {
  if (!opts.smtpUrl) {
    return {
      target: 'outbox',
      async send(msg, meta) {
        const started = performance.now();
        await opts.keep({ orgId: meta.orgId, deliveryId: meta.deliveryId, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });
        return { ok: true, status: null, responseBody: 'kept in the local outbox (no SMTP_URL set)', latencyMs: performance.now() - started, errorKind: null, errorMessage: null, retryAfterMs: null };
      },
      async close() {},
    };
  }
  const url = new URL(opts.smtpUrl);
  const transport = nodemailer.createTransport({
    url: opts.smtpUrl,
    connectionTimeout: Math.min(opts.timeoutMs, 10_000),
    greetingTimeout: Math.min(opts.timeoutMs, 10_000),
    socketTimeout: opts.timeoutMs,
  } as never);
  return {
    target: `${url.protocol}//${url.host}`,
    async send(msg) {
      const started = performance.now();
      try {
        const info = await transport.sendMail({ from: opts.from, to: msg.to, subject: msg.subject, text: msg.text, html: msg.html });
        return { ok: true, status: 250, responseBody: String(info.response ?? '').slice(0, 500), latencyMs: performance.now() - started, errorKind: null, errorMessage: null, retryAfterMs: null };
      } catch (err) {
        const e = err as { code?: string; responseCode?: number; message?: string };
        const kind: ErrorKind = e.code === 'ECONNREFUSED' ? 'connection_refused' : e.code === 'ETIMEDOUT' ? 'timeout' : e.responseCode ? 'status' : e.code === 'EDNS' ? 'dns' : e.code === 'ETLS' ? 'tls' : 'other';
        return { ok: false, status: e.responseCode ?? null, responseBody: null, latencyMs: performance.now() - started, errorKind: kind, errorMessage: `SMTP: ${e.message ?? String(err)}`.slice(0, 500), retryAfterMs: null };
      }
    },
    async close() {
      transport.close();
    },
  };
}
