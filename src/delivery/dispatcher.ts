// The dispatcher: claims due deliveries, sends them, and records each attempt.
//
// - Wake-ups, not sleeping polls: a command that writes deliveries wakes this process's
//   dispatcher after commit (and other processes through NOTIFY on PostgreSQL). A timer set
//   to the next due retry, capped by the poll interval, covers everything else, so no
//   wake-up is ever needed for correctness.
// - Completions are written in batches: one transaction records the attempts of every
//   request that finished meanwhile. On SQLite each commit is an fsync; batching is what
//   lets one disk keep up with thousands of deliveries a second.
// - Shutdown stops claiming, lets requests in flight finish within a grace period, and
//   hands back the leases of any it had to abort, uncounted.
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { createWebhookSender, type WebhookSender } from '../transports/webhook.js';
import { type SendResult } from '../model/send-result.js';
import { dialect, type RenderContext } from '../dialects/index.js';
import type { Services } from '../domain/context.js';
import { eventFromRow } from '../domain/events.js';
import { type CanonicalEvent } from '../model/event.js';
import { getProject } from '../domain/project-reads.js';
import { type ProjectWithCounters } from '../model/views.js';
import { maskHeaders, maskValue, type WebhookConfig } from '../domain/notifications.js';
import type { ChannelTable, DeliveryTable } from '../store/schema.js';
import type { Tx } from '../store/connect.js';
import { claimDue, keepInOutbox, nextDueAt, releaseExpired, releaseOwn } from '../store/deliveries.js';
import type { Metrics } from './metrics.js';
import { createEmailSender, type EmailSender } from '../transports/email.js';
import { batchEmail, describeEvent, digestEmail, digestSlack, eventSlack, type DigestInput, type ProjectRef } from './messages.js';
import { type Email, type SlackMessage } from '../model/messages.js';
import { projectLink } from '../model/messaging-settings.js';
import { postSlack, slackDestination, slackRequest, type SlackTarget } from '../transports/slack.js';
import type { DigestPayload } from '../model/digest.js';
import type { EmailConfig, SlackConfig } from '../domain/notifications.js';
import { decide } from './retry.js';
import { openOrPlain, type Keyring } from '../store/seal.js';
import { openConfig } from '../store/sealed.js';
import { MAX_RUN_LOGS, MAX_RUN_OUTPUT, type ActionRunner } from '../model/action-run.js';
import { masker } from '../transports/sandbox/mask.js';
import { pipelineEmail } from './pipeline-email.js';
import { superannotate, superannotateEventName } from '../dialects/superannotate.js';
import { EMAIL_EVENT_NAMES } from '../model/triggers.js';
import { openSecretValues } from '../store/secret-box.js';
import type { ActionConfig } from '../domain/pipelines.js';

export const USER_AGENT = 'Labelcast-Webhooks/0.1';
// A lease outlives the request timeout by this margin, the time allowed to record the
// attempt. A worker that dies holds its leases this long past the timeout before another
// worker (PostgreSQL) takes them over; on SQLite a restart releases them at once.
export const LEASE_MARGIN_MS = 10_000;
// How long freed slots wait to be refilled together (see wakeSoon).
const CLAIM_COALESCE_MS = 2;
// A failed record is tried again this much later (the database restarting, say).
const RECORD_RETRY_MS = 500;
// A completion whose record failed on its own this many times, while a plain update of its
// delivery still succeeds, is a bad row, not a database away: it is ended as failed.
const POISON_AFTER = 3;
// After the grace period and the aborts, how long stop() waits for the last records before
// it gives up on them (their leases are released by the next start or by lease expiry).
const STOP_RECORD_MS = 5_000;

/** A channel's secrets opened (they are sealed at rest, store/sealed.ts), once per claim. */
interface OpenedChannel {
  /** Signing secrets in force at claim time, newest first. */
  secrets: (string | null)[];
  config: WebhookConfig | SlackConfig;
}

function openChannel(ring: Keyring, c: Selectable<ChannelTable>): OpenedChannel | Error {
  try {
    return {
      secrets: [c.secret === null ? null : openOrPlain(ring, c.secret), c.previous_secret === null ? null : openOrPlain(ring, c.previous_secret)],
      config: c.kind === 'webhook' || c.kind === 'slack' ? openConfig(ring, c.kind, c.config) : (JSON.parse(c.config) as WebhookConfig),
    };
  } catch (err) {
    // A key missing from the ring: the attempt fails with the reason, and is retried.
    return err as Error;
  }
}

function opened(job: Job): OpenedChannel {
  if (job.opened instanceof Error) throw job.opened;
  return job.opened;
}

interface Job {
  delivery: Selectable<DeliveryTable>;
  channel: Selectable<ChannelTable>;
  opened: OpenedChannel | Error;
  event: CanonicalEvent;
  context: RenderContext;
  abort: AbortController;
}

interface Completion {
  job: Job;
  url: string;
  headers: Record<string, string>;
  body: string;
  startedAt: number;
  result: SendResult;
  /** Times recording it failed on its own (see recordIsolated). */
  failures: number;
  /** Custom actions: what the handler printed. */
  logs?: string | null;
  /** The outcome is final even though it failed (a handler's own error: user code is not retried). */
  final?: boolean;
  lastError?: unknown;
}

export interface DispatcherOptions {
  svc: Services;
  metrics: Metrics;
  log: Logger;
  workerId?: string;
  /** Runs custom actions (the sandbox); absent: their runs fail with "no runner". */
  actionRunner?: ActionRunner | undefined;
}

/** The message a delivery without an event carries: a digest, an email batch, or a ping. */
function syntheticEvent(d: Selectable<DeliveryTable>): CanonicalEvent | null {
  const payload = JSON.parse(d.payload ?? 'null') as (Record<string, unknown> & { kind?: string }) | null;
  if (!payload) return null;
  if (payload.kind === 'digest' || payload.kind === 'email_batch') {
    const p = payload as Record<string, any>;
    return {
      // Stable across retries (webhook-id, uid): derived from the window's dedupe key.
      id: stableId(d.dedupe_key ?? String(d.id)),
      type: payload.kind === 'digest' ? 'digest' : 'email.batch',
      occurred_at: payload.kind === 'digest' ? p.window.end : new Date(p.window_end).toISOString(),
      org_id: d.org_id,
      project_id: null,
      actor: { user_id: 0, email: 'labelcast', api_key_id: null },
      data: payload.kind === 'digest' ? { notification: p.notification, window: p.window, projects_stats: p.projects_stats } : payload,
    };
  }
  return payload as unknown as CanonicalEvent;
}

function stableId(key: string): string {
  const h = crypto.createHash('sha256').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export class Dispatcher {
  readonly workerId: string;
  private readonly svc: Services;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly sender: WebhookSender;
  private readonly email: EmailSender;
  private readonly actionRunner: ActionRunner | undefined;
  private readonly inFlight = new Map<number, Job>();
  private readonly pending: Completion[] = [];
  private flushing: Promise<void> | null = null;
  /** Set by stop() when records cannot be written before it must return. */
  private abandoned = false;
  private stopping = false;
  private woken = false;
  private waiter: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private rotateAfter = 0;
  private lastReclaim = 0;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(o: DispatcherOptions) {
    this.svc = o.svc;
    this.metrics = o.metrics;
    this.log = o.log;
    this.workerId = o.workerId ?? `w-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this.actionRunner = o.actionRunner;
    const d = o.svc.delivery;
    this.email = createEmailSender({ smtpUrl: o.svc.messaging.smtpUrl, from: o.svc.messaging.emailFrom, keep: (m) => keepInOutbox(o.svc.store.db, m), timeoutMs: d.timeoutMs });
    this.sender = createWebhookSender({ policy: o.svc.targets, timeoutMs: d.timeoutMs, responseBodyLimit: d.responseBodyLimit, userAgent: USER_AGENT, proxyUrl: d.proxyUrl });
  }

  async start(): Promise<void> {
    const store = this.svc.store;
    if (store.kind === 'sqlite') {
      // One process owns a SQLite file, so any lease still open is from a process that is
      // gone (killed mid-delivery): those deliveries are due again now.
      const n = await releaseExpired(store, Date.now(), { all: true });
      if (n > 0) this.log.info({ released: n }, 'released leases left by a previous process');
    } else {
      this.unlisten = await store.listenForWork(() => this.wake());
    }
    this.loop = this.run();
  }

  private wakeTimer: NodeJS.Timeout | null = null;

  /**
   * Slots freed by completions: claim again shortly rather than at once, so that one claim
   * refills the slots of several completions (a claim costs a few queries whatever its size).
   */
  private wakeSoon(): void {
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.wake();
    }, CLAIM_COALESCE_MS);
  }

  /** Something may be due: claim now rather than at the next timer. */
  wake(): void {
    this.woken = true;
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private async sleep(ms: number): Promise<void> {
    if (this.woken || this.stopping) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve();
      }, ms);
      this.waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    const d = this.svc.delivery;
    while (!this.stopping) {
      this.woken = false;
      try {
        const now = Date.now();
        if (this.svc.store.kind === 'postgres' && now - this.lastReclaim >= d.pollMs) {
          this.lastReclaim = now;
          const n = await releaseExpired(this.svc.store, now);
          if (n > 0) this.log.warn({ released: n }, 'released expired leases of a worker that stopped answering');
        }
        const free = d.workerConcurrency - this.inFlight.size;
        const claimed = free > 0
          ? await claimDue(this.svc.store, { now, budget: free, leaseMs: d.timeoutMs + LEASE_MARGIN_MS, workerId: this.workerId, rotateAfter: this.rotateAfter })
          : [];
        if (claimed.length > 0) {
          this.rotateAfter = claimed[claimed.length - 1]!.channel_id;
          await this.launch(claimed.map((c) => c.id));
          continue;
        }
        this.rotateAfter = 0;
        if (free <= 0) {
          await this.sleep(d.pollMs);
          continue;
        }
        const next = await nextDueAt(this.svc.store, now);
        const wait = next === null ? d.pollMs : Math.max(1, Math.min(d.pollMs, next - Date.now()));
        await this.sleep(wait);
      } catch (err) {
        // The database is away (restart, disk full): keep the process, try again shortly.
        this.log.error({ err }, 'dispatcher round failed; retrying');
        await this.sleep(Math.min(d.pollMs, 1000));
      }
    }
  }

  private async launch(ids: number[]): Promise<void> {
    const db = this.svc.store.db;
    const deliveries: Selectable<DeliveryTable>[] = [];
    for (const part of chunks(ids, 500)) deliveries.push(...(await db.selectFrom('deliveries').selectAll().where('id', 'in', part).execute()));
    const channelIds = [...new Set(deliveries.map((d) => d.channel_id))];
    const channels = new Map((await db.selectFrom('channels').selectAll().where('id', 'in', channelIds).execute()).map((c) => [c.id, c]));
    const eventIds = [...new Set(deliveries.map((d) => d.event_id).filter((e): e is string => e !== null))];
    const events = new Map<string, CanonicalEvent>();
    for (const part of chunks(eventIds, 500)) {
      for (const row of await db.selectFrom('events').selectAll().where('id', 'in', part).execute()) events.set(row.id, eventFromRow(row));
    }
    const context = await this.loadContext(deliveries, channels, events);
    // Opening costs about 3.4 µs a value (200,000 opens of a whsec_ secret, measured on the
    // loaded 2-core test machine); done once per channel per claim, not per delivery.
    const open = new Map([...channels.values()].map((c) => [c.id, openChannel(this.svc.ring, c)]));
    for (const delivery of deliveries) {
      const channel = channels.get(delivery.channel_id);
      const event = delivery.event_id ? events.get(delivery.event_id) : syntheticEvent(delivery);
      if (!channel || !event) {
        // Its channel or its event is gone: nothing can be sent, ever. Finish it visibly
        // (handing it back would have it claimed again at once, in a loop: the backlog
        // benchmark found that).
        const now = Date.now();
        await this.svc.store.db
          .updateTable('deliveries')
          .set({ status: channel ? 'failed' : 'cancelled', last_error: channel ? 'its event no longer exists' : 'its channel no longer exists', lease_until: null, leased_by: null, updated_at: now, completed_at: now })
          .where('id', '=', delivery.id)
          .execute();
        continue;
      }
      const job: Job = { delivery, channel, opened: open.get(channel.id)!, event, context, abort: new AbortController() };
      this.inFlight.set(delivery.id, job);
      this.metrics.inFlight.set(this.inFlight.size);
      void this.send(job);
    }
  }

  /**
   * What the vendor dialects need beyond the event: Label Studio and Encord bodies carry the
   * project (with Label Studio's counters as they are now), SuperAnnotate items name users
   * by email. Loaded once per claim, only for the channels whose dialect needs them.
   */
  private async loadContext(
    deliveries: Selectable<DeliveryTable>[],
    channels: Map<number, Selectable<ChannelTable>>,
    events: Map<string, CanonicalEvent>,
  ): Promise<RenderContext> {
    const context: RenderContext = { projects: new Map(), users: new Map() };
    const projectIds = new Set<number>();
    const orgOf = new Map<number, number>();
    let wantUsers = false;
    for (const d of deliveries) {
      const c = channels.get(d.channel_id);
      const ev = d.event_id ? events.get(d.event_id) : undefined;
      if (!c || !ev) continue;
      const name = (JSON.parse(c.config) as WebhookConfig).dialect;
      if ((c.kind !== 'webhook' || name === 'label-studio' || name === 'encord') && ev.project_id !== null) {
        projectIds.add(ev.project_id);
        orgOf.set(ev.project_id, ev.org_id);
      }
      if (name === 'superannotate' || c.kind === 'action') wantUsers = true;
    }
    const db = this.svc.store.db;
    for (const id of projectIds) {
      try {
        context.projects.set(id, (await getProject(db, orgOf.get(id)!, id)) as ProjectWithCounters);
      } catch {
        // Deleted since: the dialect falls back to the event's own snapshot.
      }
    }
    if (wantUsers) {
      const orgs = [...new Set(deliveries.map((d) => d.org_id))];
      for (const u of await db.selectFrom('users').select(['id', 'email', 'name']).where('org_id', 'in', orgs).execute()) context.users.set(u.id, { email: u.email, name: u.name });
    }
    return context;
  }

  private async send(job: Job): Promise<void> {
    const startedAt = Date.now();
    let out: { url: string; headers: Record<string, string>; body: string; result: SendResult; logs?: string | null; final?: boolean };
    try {
      out =
        job.channel.kind === 'email'
          ? await this.sendEmail(job)
          : job.channel.kind === 'slack'
            ? await this.sendSlack(job)
            : job.channel.kind === 'action'
              ? await this.runAction(job)
              : await this.sendWebhook(job, startedAt);
    } catch (err) {
      // Composing the message failed (its data went missing meanwhile): a failed attempt,
      // recorded and retried like any other, never an unhandled rejection.
      const message = (err as Error).message ?? String(err);
      out = { url: job.channel.kind, headers: {}, body: '', result: { ok: false, status: null, responseBody: null, latencyMs: 0, errorKind: 'other', errorMessage: message, retryAfterMs: null } };
    }
    const result = out.result;
    if (job.abort.signal.aborted && this.stopping) {
      // Shutdown cut this request short: not an attempt; hand the lease back.
      this.inFlight.delete(job.delivery.id);
      await releaseOwn(this.svc.store, this.workerId, [job.delivery.id], Date.now()).catch((err) => this.log.error({ err }, 'could not release a lease'));
      return;
    }
    this.metrics.latency.observe(result.latencyMs / 1000);
    this.metrics.attempts.inc({ outcome: result.ok ? 'success' : 'failure', error_kind: result.errorKind ?? '' });
    this.pending.push({ job, url: out.url, headers: out.headers, body: out.body, startedAt, result, failures: 0, logs: out.logs ?? null, final: out.final ?? false });
    this.scheduleFlush();
  }

  private async sendWebhook(job: Job, startedAt: number) {
    const o = opened(job);
    const cfg = o.config as WebhookConfig;
    const secrets = [o.secrets[0] ?? null, job.channel.previous_secret_until !== null && job.channel.previous_secret_until > startedAt ? (o.secrets[1] ?? null) : null].filter(
      (s): s is string => s !== null,
    );
    const rendered = dialect(cfg.dialect).render({
      event: job.event,
      part: job.delivery.part,
      deliveryId: job.delivery.id,
      sentAt: startedAt,
      secrets,
      options: { send_payload: cfg.send_payload !== false },
      context: job.context,
      encordSource: this.svc.delivery.encordSource,
    });
    const headers = { ...cfg.headers, ...rendered.headers };
    const result = await this.sender.send(cfg.url, headers, rendered.body, job.abort.signal);
    // Custom header values are sealed at rest: the attempt record keeps them masked whatever
    // their name, or the attempts table would hold them in clear (issue 10 defect 4).
    const recorded = { ...Object.fromEntries(Object.entries(cfg.headers).map(([k, v]) => [k, maskValue(v)])), ...rendered.headers };
    return { url: cfg.url, headers: recorded, body: rendered.body, result };
  }

  /**
   * A custom action's run (issue 13): the handler's input as seed 004 shows it, the mounted
   * secrets, and the injected runner. The context of an entity event is exactly the
   * superannotate webhook body ({op, before, after, ts_ms}); of a fired pipeline, its body.
   */
  private async runAction(job: Job) {
    const cfg = JSON.parse(job.channel.config) as ActionConfig;
    const ev = job.event;
    const fired = ev.type.startsWith('pipeline.');
    const context = fired
      ? ev.data.context
      : superannotate.supports(ev.type)
        ? JSON.parse(superannotate.render({ event: ev, part: job.delivery.part, deliveryId: job.delivery.id, sentAt: Date.now(), secrets: [], options: {}, context: job.context, encordSource: '' }).body)
        : // Events SuperAnnotate has no body for (labels): the same shape, from the canonical event.
          { op: ev.type.endsWith('.created') ? 'c' : ev.type.endsWith('.deleted') ? 'd' : 'u', before: ev.before ?? null, after: ev.after ?? null, ts_ms: Date.parse(ev.occurred_at) };
    const event = { ...cfg.args, uuid: job.delivery.id, event: superannotateEventName(ev.type), pipeline_id: job.channel.notification_id, trigger_result_id: ev.id, ts_ms: Date.parse(ev.occurred_at) };
    const input = JSON.stringify({ event, context });
    const url = `action:${cfg.language}`;
    const fail = (message: string, final: boolean, logs: string | null = null) => ({
      url,
      headers: {},
      body: input,
      logs,
      final,
      result: { ok: false, status: null, responseBody: null, latencyMs: 0, errorKind: 'other' as const, errorMessage: message, retryAfterMs: null },
    });
    if (!this.actionRunner) return fail('no custom-action runner in this process: the sandbox is not installed, so the run waits for a retry', false);
    let secrets: Record<string, string> = {};
    if (cfg.secret) {
      const row = await this.svc.store.db.selectFrom('action_secrets').select('sealed').where('org_id', '=', job.channel.org_id).where('name', '=', cfg.secret).executeTakeFirst();
      if (!row) return fail(`the secret set "${cfg.secret}" mounted on this action no longer exists`, true);
      secrets = openSecretValues(this.svc.ring, row.sealed);
    }
    // A run never outlives its TTL (it would end `expired` meanwhile), and its lease covers
    // its wall clock: the claim's lease is sized for a webhook request (timeout + margin), so
    // without this a 5-minute handler's lease would lapse on PostgreSQL, another worker would
    // run it a second time, and the per-action cap of 32 would count it once.
    const now = Date.now();
    const ttlLeft = job.delivery.created_at + (cfg.ttl_ms ?? 3 * 3_600_000) - now;
    if (ttlLeft <= 0) return fail('expired: not finished within its TTL', true);
    const limits = { ...cfg.limits, wall_ms: Math.max(1, Math.min(cfg.limits.wall_ms, this.svc.delivery.actions.wallMs, ttlLeft)) };
    await this.svc.store.db
      .updateTable('deliveries')
      .set({ lease_until: now + limits.wall_ms + LEASE_MARGIN_MS })
      .where('id', '=', job.delivery.id)
      .where('leased_by', '=', this.workerId)
      .where('status', '=', 'sending')
      .execute();
    // The sandbox's masking, once more over whatever the runner hands back (any runner, and
    // the runner's own errors): the same mark, and the JSON-escaped form of a value too, which
    // matters here since the output is recorded as JSON text.
    const mask = masker(secrets);
    let r: Awaited<ReturnType<ActionRunner['run']>>;
    try {
      r = await this.actionRunner.run({ runId: job.delivery.id, orgId: job.channel.org_id, language: cfg.language, code: cfg.code, event, context, secrets, limits, signal: job.abort.signal });
    } catch (err) {
      // The runner itself failed (not the handler): retried, and its message masked too.
      return fail(mask(`the custom-action runner failed: ${(err as Error).message ?? String(err)}`).slice(0, 1000), false);
    }
    const logs = mask(r.logs).slice(0, MAX_RUN_LOGS);
    const output = mask(JSON.stringify(r.ok ? (r.output ?? null) : { error: r.error })).slice(0, MAX_RUN_OUTPUT);
    const result: SendResult = {
      ok: r.ok,
      status: null,
      responseBody: output,
      latencyMs: r.duration_ms,
      errorKind: r.ok ? null : 'other',
      errorMessage: r.ok ? null : mask(r.error?.message ?? 'the handler failed').slice(0, 1000),
      retryAfterMs: null,
    };
    // A handler's own error is the run's outcome: user code is not run again by itself
    // (it may have had effects); POST /v1/actions/{id}/runs/{run_id}/rerun runs it again.
    return { url, headers: {}, body: input, result, logs, final: !r.ok };
  }

  /** Seed 004's Send email body: Event, From Value, To Value, Triggered by team/project. */
  private async pipelineMail(ev: CanonicalEvent, context: RenderContext): Promise<Email> {
    const org = await this.svc.store.db.selectFrom('organizations').select('name').where('id', '=', ev.org_id).executeTakeFirst();
    const d = ev.data as Record<string, any>;
    let project: string | null = ev.project_id !== null ? (context.projects.get(ev.project_id)?.title ?? d.project?.title ?? null) : null;
    // A fired pipeline's message carries no event row, so its project is not in the claim's context.
    if (project === null && ev.project_id !== null) {
      project = (await this.svc.store.db.selectFrom('projects').select('title').where('id', '=', ev.project_id).executeTakeFirst())?.title ?? null;
    }
    const ctx = (d.context ?? {}) as Record<string, unknown>;
    const manual = ev.type === 'pipeline.manual';
    const from = ev.type === 'project.status_changed' ? String(d.from) : manual && ctx.from !== undefined ? String(ctx.from) : null;
    const to = ev.type === 'project.status_changed' ? String(d.to) : manual && ctx.to !== undefined ? String(ctx.to) : null;
    return pipelineEmail({ event: EMAIL_EVENT_NAMES[ev.type] ?? ev.type, from, to, team: org?.name ?? String(ev.org_id), project });
  }

  private projectRef(p: { id: number; title: string; project_hash: string }): ProjectRef {
    return { id: p.id, title: p.title, link: projectLink(this.svc.messaging, p) };
  }

  private async digestInput(payload: DigestPayload): Promise<DigestInput> {
    const hashes = payload.projects_stats.map((p) => p.project_hash);
    const rows = hashes.length ? await this.svc.store.db.selectFrom('projects').select(['id', 'title', 'project_hash']).where('project_hash', 'in', hashes).execute() : [];
    return { title: payload.notification.title, window: payload.window, projects_stats: payload.projects_stats, projects: new Map(rows.map((r) => [r.project_hash, this.projectRef(r)])) };
  }

  private eventText(ev: CanonicalEvent, context: RenderContext) {
    const p = ev.project_id !== null ? context.projects.get(ev.project_id) : undefined;
    return describeEvent(ev, p ? this.projectRef(p) : null);
  }

  private async sendEmail(job: Job) {
    const ev = job.event;
    let to: string[];
    let mail: Email;
    if (ev.type === 'email.batch') {
      const recipient = String(ev.data.recipient);
      const items = await this.svc.store.db.selectFrom('email_items').select('event_id').where('batch_id', '=', job.delivery.id).orderBy('id').execute();
      const ids = [...new Set(items.map((i) => i.event_id))];
      const events: CanonicalEvent[] = [];
      for (const part of chunks(ids, 500)) events.push(...(await this.svc.store.db.selectFrom('events').selectAll().where('id', 'in', part).orderBy('seq').execute()).map(eventFromRow));
      if (events.length === 0) throw new Error('the events of this email were pruned before it was sent');
      const projectIds = [...new Set(events.map((e) => e.project_id).filter((p): p is number => p !== null))];
      const projects = projectIds.length ? await this.svc.store.db.selectFrom('projects').select(['id', 'title', 'project_hash']).where('id', 'in', projectIds).execute() : [];
      const refs = new Map(projects.map((p) => [p.id, this.projectRef(p)]));
      mail = batchEmail(events.map((e) => ({ ev: e, text: describeEvent(e, e.project_id !== null ? (refs.get(e.project_id) ?? null) : null) })));
      to = [recipient];
    } else {
      to = (JSON.parse(job.channel.config) as EmailConfig).recipients;
      if ((JSON.parse(job.channel.config) as { format?: string }).format === 'superannotate' && ev.type !== 'ping') mail = await this.pipelineMail(ev, job.context);
      else if (ev.type === 'digest') mail = digestEmail(await this.digestInput(ev.data as unknown as DigestPayload));
      else {
        const text = this.eventText(ev, job.context);
        mail = ev.type === 'ping' ? { subject: 'Labelcast test message', text: `${String(ev.data.message)}\n`, html: `<p>${String(ev.data.message)}</p>` } : batchEmail([{ ev, text }]);
      }
    }
    const result = await this.email.send({ ...mail, to }, { orgId: job.delivery.org_id, deliveryId: job.delivery.id });
    return { url: this.email.target, headers: { to: to.join(', '), subject: mail.subject }, body: mail.text, result };
  }

  private async sendSlack(job: Job) {
    const cfg = opened(job).config as SlackConfig;
    const ev = job.event;
    const msg: SlackMessage =
      ev.type === 'digest'
        ? digestSlack(await this.digestInput(ev.data as unknown as DigestPayload))
        : ev.type === 'ping'
          ? { text: String(ev.data.message), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: String(ev.data.message) } }] }
          : eventSlack(this.eventText(ev, job.context));
    let target: SlackTarget;
    if (cfg.via === 'webhook') target = { via: 'webhook', url: cfg.url };
    else {
      const conn = await this.svc.store.db.selectFrom('slack_connections').select('bot_token').where('id', '=', cfg.connection_id).executeTakeFirst();
      if (!conn) throw new Error('the Slack workspace of this channel was disconnected; connect it again');
      target = { via: 'bot', token: openOrPlain(this.svc.ring, conn.bot_token), channel: cfg.channel_id };
    }
    const req = slackRequest(target, msg, this.svc.messaging.slackApiUrl);
    const result = await postSlack(this.sender, req, job.abort.signal);
    return { url: req.shownUrl, headers: req.headers, body: req.body, result };
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      // Let completions that finish in the same tick join this batch.
      await new Promise((r) => setImmediate(r));
      while (this.pending.length > 0 && !this.abandoned) {
        const batch = this.pending.splice(0, 500);
        const left = await this.recordIsolated(batch);
        const done = batch.filter((c) => !left.includes(c));
        for (const c of done) this.inFlight.delete(c.job.delivery.id);
        this.metrics.inFlight.set(this.inFlight.size);
        if (done.length > 0) this.wakeSoon();
        if (left.length > 0) {
          // Could not write them (database away): keep them and retry; the leases stay ours.
          this.pending.unshift(...left);
          await new Promise((r) => setTimeout(r, RECORD_RETRY_MS));
        }
      }
    })().finally(() => {
      this.flushing = null;
      if (this.pending.length > 0 && !this.abandoned) this.scheduleFlush();
    });
  }

  /**
   * Records a batch; returns the completions that could not be recorded. One bad row must
   * not hold the rest (issue 10: one row that threw kept a whole batch, and every later
   * completion that joined it, unrecorded forever): when the batch fails, each completion
   * is recorded on its own. A completion that keeps failing on its own while the database
   * answers is ended as failed with the reason, visible and resendable, rather than kept.
   */
  private async recordIsolated(batch: Completion[]): Promise<Completion[]> {
    try {
      await this.record(batch);
      return [];
    } catch (err) {
      this.log.error({ err, count: batch.length }, batch.length > 1 ? 'could not record a batch of attempts; recording them one by one' : 'could not record an attempt');
      if (batch.length === 1) batch[0]!.lastError = err;
    }
    const left: Completion[] = [];
    for (const c of batch) {
      if (batch.length > 1) {
        try {
          await this.record([c]);
          continue;
        } catch (err) {
          this.log.error({ err, delivery: c.job.delivery.id, channel: c.job.channel.id }, 'could not record this attempt');
          c.lastError = err;
        }
      }
      c.failures += 1;
      if (c.failures >= POISON_AFTER && (await this.endUnrecordable(c))) continue;
      left.push(c);
    }
    return left;
  }

  /** The last resort for a completion whose record keeps failing: end its delivery, visibly. */
  private async endUnrecordable(c: Completion): Promise<boolean> {
    const now = Date.now();
    const why = c.lastError instanceof Error ? c.lastError.message : String(c.lastError ?? 'unknown error');
    try {
      await this.svc.store.db
        .updateTable('deliveries')
        .set({ status: 'failed', last_error: `the attempt could not be recorded: ${why}`.slice(0, 1000), lease_until: null, leased_by: null, updated_at: now, completed_at: now })
        .where('id', '=', c.job.delivery.id)
        .where('leased_by', '=', this.workerId)
        .execute();
      this.log.error({ delivery: c.job.delivery.id, channel: c.job.channel.id }, 'gave up recording an attempt; its delivery is marked failed');
      this.metrics.deliveries.inc({ outcome: 'failed' });
      return true;
    } catch {
      return false;
    }
  }

  /** One transaction: every attempt of the batch, its delivery's new state, channel health. */
  private async record(batch: Completion[]): Promise<void> {
    const s = this.svc.delivery;
    const outcomes: string[] = [];
    await this.svc.store.tx(async (trx) => {
      const channelIds = [...new Set(batch.map((c) => c.job.channel.id))];
      const health = new Map((await trx.selectFrom('channels').select(['id', 'failure_streak', 'first_failure_at', 'disable_after_failures', 'disabled_at']).where('id', 'in', channelIds).execute()).map((c) => [c.id, { ...c, changed: false, disabledReason: null as string | null }]));
      await trx
        .insertInto('attempts')
        .values(
          batch.map((c) => ({
            delivery_id: c.job.delivery.id,
            channel_id: c.job.channel.id,
            attempt_no: c.job.delivery.attempt_count + 1,
            started_at: c.startedAt,
            latency_ms: c.result.latencyMs,
            url: c.url,
            request_headers: JSON.stringify(maskHeaders(c.headers)),
            request_body: c.body,
            response_status: c.result.status,
            response_body: c.result.responseBody,
            outcome: c.result.ok ? 'success' : 'failure',
            worker: this.workerId,
            error_kind: c.result.errorKind,
            error_message: c.result.errorMessage,
            logs: c.logs ?? null,
          })),
        )
        .execute();
      const now = Date.now();
      for (const c of batch) {
        const base = { attempt_count: c.job.delivery.attempt_count + 1, last_status: c.result.status, lease_until: null, leased_by: null, updated_at: now };
        // Only our own lease is ours to finish: a delivery cancelled meanwhile stays
        // cancelled, and one whose lease expired belongs to whoever claimed it since.
        const mine = trx.updateTable('deliveries').where('id', '=', c.job.delivery.id).where('leased_by', '=', this.workerId);
        const h = health.get(c.job.channel.id);
        if (!h) {
          // Its channel was deleted while the request was in flight (with its notification,
          // /v1/webhooks webhook or pipeline): the attempt above is history; the delivery
          // ends cancelled, and there is no health left to update.
          await mine.set({ ...base, status: 'cancelled', last_error: 'its channel was deleted while this attempt was in flight', completed_at: now }).where('status', 'in', ['sending', 'cancelled']).execute();
          outcomes.push('cancelled');
          continue;
        }
        const decision = c.final && !c.result.ok ? { next: { status: 'failed' as const, reason: 'the handler failed' }, disable: null } : decide(c.result, c.job.delivery.retry_index, h, s, now);
        const next = decision.next;
        const set =
          next.status === 'pending'
            ? { ...base, last_error: c.result.errorMessage, status: 'pending', retry_index: next.retryIndex, next_attempt_at: next.at }
            : { ...base, last_error: next.status === 'failed' ? `${c.result.errorMessage ?? ''} (${next.reason})`.trim() : c.result.errorMessage, status: next.status, completed_at: now };
        await mine.set(set).where('status', '=', 'sending').execute();
        outcomes.push(next.status === 'pending' ? 'retrying' : next.status);
        if (c.result.ok) {
          if (h.failure_streak !== 0 || h.first_failure_at !== null) {
            h.failure_streak = 0;
            h.first_failure_at = null;
            h.changed = true;
          }
        } else {
          h.failure_streak += 1;
          h.first_failure_at ??= now;
          h.changed = true;
          if (decision.disable && h.disabled_at === null) {
            h.disabled_at = now;
            h.disabledReason = decision.disable;
          }
        }
      }
      await this.holdRateLimited(trx, batch, now);
      for (const h of health.values()) {
        if (!h.changed) continue;
        await trx
          .updateTable('channels')
          .set({
            failure_streak: h.failure_streak,
            first_failure_at: h.first_failure_at,
            ...(h.disabledReason ? { disabled_at: h.disabled_at, disabled_reason: h.disabledReason } : {}),
            updated_at: now,
          })
          .where('id', '=', h.id)
          .execute();
        if (h.disabledReason) this.log.warn({ channel: h.id, reason: h.disabledReason }, 'channel disabled');
      }
    });
    for (const o of outcomes) this.metrics.deliveries.inc({ outcome: o });
  }

  /**
   * Slack answered 429 with Retry-After: nothing more goes to that conversation until then,
   * whichever message is next and whichever Labelcast channel posts there (issue 10: the
   * next message was sent anyway and got a 429 too). The time is kept on the channel rows,
   * so every worker process honours it.
   */
  private async holdRateLimited(trx: Tx, batch: Completion[], now: number): Promise<void> {
    const limited = batch.filter((c) => c.job.channel.kind === 'slack' && c.result.status === 429 && c.result.retryAfterMs !== null);
    if (limited.length === 0) return;
    const orgs = [...new Set(limited.map((c) => c.job.channel.org_id))];
    const channels = await trx.selectFrom('channels').select(['id', 'org_id', 'config']).where('kind', '=', 'slack').where('org_id', 'in', orgs).execute();
    const teams = new Map((await trx.selectFrom('slack_connections').select(['id', 'team_id']).where('org_id', 'in', orgs).execute()).map((c) => [c.id, c.team_id]));
    // Incoming-webhook URLs are sealed with a random IV, so two channels posting to one URL
    // differ at rest: they are matched on the opened URL (a 429 is rare; opening is cheap).
    const destination = (orgId: number, config: string) => {
      let cfg: SlackConfig;
      try {
        cfg = openConfig<SlackConfig>(this.svc.ring, 'slack', config);
      } catch {
        return null;
      }
      return `${orgId}/${slackDestination(cfg, cfg.via === 'bot' ? (teams.get(cfg.connection_id) ?? null) : null)}`;
    };
    const until = new Map<string, number>();
    for (const c of limited) {
      const key = destination(c.job.channel.org_id, c.job.channel.config);
      if (key === null) continue;
      until.set(key, Math.max(until.get(key) ?? 0, now + Math.min(c.result.retryAfterMs!, this.svc.delivery.maxRetryAfterMs)));
    }
    for (const ch of channels) {
      const key = destination(ch.org_id, ch.config);
      const at = key === null ? undefined : until.get(key);
      if (at === undefined) continue;
      await trx
        .updateTable('channels')
        .set({ not_before: at })
        .where('id', '=', ch.id)
        .where((eb) => eb.or([eb('not_before', 'is', null), eb('not_before', '<', at)]))
        .execute();
    }
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Stop claiming; wait for requests in flight up to graceMs, then abort and release them. */
  stop(graceMs = 10_000): Promise<void> {
    // Idempotent: the server and a test may both ask.
    this.stopped ??= this.shutdown(graceMs);
    return this.stopped;
  }

  private stopped: Promise<void> | null = null;

  private async shutdown(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const job of this.inFlight.values()) job.abort.abort();
    // Bounded: a database that cannot take the records must not keep the process alive
    // (issue 10: SIGTERM did not end a process whose records kept failing).
    const recordDeadline = Date.now() + STOP_RECORD_MS;
    while ((this.inFlight.size > 0 || this.flushing) && Date.now() < recordDeadline) await new Promise((r) => setTimeout(r, 10));
    if (this.inFlight.size > 0 || this.flushing) {
      this.abandoned = true;
      this.log.error({ unrecorded: this.pending.length, inFlight: this.inFlight.size }, 'stopping with attempts not recorded; their leases are released by the next start or when they expire');
      this.pending.length = 0;
      await Promise.race([this.flushing, new Promise((r) => setTimeout(r, RECORD_RETRY_MS * 2))]);
    }
    await this.unlisten?.();
    await this.sender.close();
    await this.email.close();
  }
}
