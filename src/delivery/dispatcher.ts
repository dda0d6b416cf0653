// The dispatcher: the delivery pipeline's loop. Each round claims due deliveries
// (store/queue/claim.ts), prepares them (prepare.ts), sends each (send.ts: render and
// transport), and records the attempts in batches (record.ts).
//
// - Wake-ups, not sleeping polls: a command that writes deliveries wakes this process's
//   dispatcher after commit (and other processes through NOTIFY on PostgreSQL). A timer set
//   to the next due retry, capped by the poll interval, covers everything else, so no
//   wake-up is ever needed for correctness.
// - Completions are recorded in batches: every request that finished meanwhile, in one
//   transaction.
// - Shutdown stops claiming, lets requests in flight finish within a grace period, and
//   hands back the leases of any it had to abort, uncounted.
import crypto from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Selectable } from 'kysely';
import type { Services } from '../domain/context.js';
import type { ActionRunner } from '../model/action-run.js';
import { keepInOutbox } from '../store/email-outbox.js';
import { claimDue } from '../store/queue/claim.js';
import type { DeliveryTable } from '../store/schema.js';
import { endDelivery } from '../store/queue/complete.js';
import { nextDueAt } from '../store/queue/next-due.js';
import { releaseExpired, releaseOwn } from '../store/queue/release.js';
import { createEmailSender } from '../transports/email.js';
import { createWebhookSender } from '../transports/webhook.js';
import type { Completion, Job, Senders } from './job.js';
import { LEASE_MARGIN_MS } from './lease.js';
import type { Metrics } from './metrics.js';
import { prepare } from './prepare.js';
import { recordIsolated, type Recorder } from './record.js';
import { send } from './send.js';

export const USER_AGENT = 'Labelcast-Webhooks/0.1';
// How long freed slots wait to be refilled together (see wakeSoon).
const CLAIM_COALESCE_MS = 2;
// A failed record is tried again this much later (the database restarting, say).
const RECORD_RETRY_MS = 500;
// Answered attempts waiting for their record, at most this many per slot of the worker's
// concurrency: slots are freed when a response arrives (a channel's cap counts requests at
// the receiver), so the records must not be allowed to fall behind without bound.
const UNRECORDED_PER_SLOT = 4;
// After the grace period and the aborts, how long stop() waits for the last records before
// it gives up on them (their leases are released by the next start or by lease expiry).
const STOP_RECORD_MS = 5_000;

export interface DispatcherOptions {
  svc: Services;
  metrics: Metrics;
  log: Logger;
  workerId?: string;
  /** Runs custom actions (the sandbox); absent: their runs fail with "no runner". */
  actionRunner?: ActionRunner | undefined;
}

export class Dispatcher {
  readonly workerId: string;
  private readonly svc: Services;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly senders: Senders;
  private readonly recorder: Recorder;
  /** Claimed and not yet recorded: requests in flight and answered attempts alike. */
  private readonly inFlight = new Map<number, Job>();
  /**
   * Aborts every request and action run in flight at shutdown. One for all jobs: a
   * controller per job, combined with each request's timeout by AbortSignal.any, was 4% of
   * the delivery-only CPU profile (docs/performance.md).
   */
  private readonly halt = new AbortController();
  /** Requests in flight at their receivers, by channel (the claim's ownInFlight). */
  private readonly requests = new Map<number, number>();
  private requestCount = 0;
  private readonly pending: Completion[] = [];
  private flushing: Promise<void> | null = null;
  /** Set by stop() when records cannot be written before it must return. */
  private abandoned = false;
  private stopping = false;
  private woken = false;
  private waiter: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private rotateAfter = 0;
  /**
   * Channels a claim left at their cap while this worker has requests in flight there: the
   * first response on such a channel removes it (and wakes the dispatcher). A channel held
   * full by other workers' requests is never kept here, since no response of ours would
   * take it out.
   */
  private readonly full = new Set<number>();
  private lastReclaim = 0;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(o: DispatcherOptions) {
    this.svc = o.svc;
    this.metrics = o.metrics;
    this.log = o.log;
    this.workerId = o.workerId ?? `w-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    const d = o.svc.delivery;
    this.senders = {
      svc: o.svc,
      webhook: createWebhookSender({ policy: o.svc.targets, timeoutMs: d.timeoutMs, responseBodyLimit: d.responseBodyLimit, userAgent: USER_AGENT, proxyUrl: d.proxyUrl }),
      email: createEmailSender({ smtpUrl: o.svc.messaging.smtpUrl, from: o.svc.messaging.emailFrom, keep: (m) => keepInOutbox(o.svc.store.db, m), timeoutMs: d.timeoutMs }),
      actionRunner: o.actionRunner,
      workerId: this.workerId,
    };
    this.recorder = { svc: o.svc, metrics: o.metrics, log: o.log, workerId: this.workerId };
    // Every request in flight listens to it (up to the worker's concurrency).
    setMaxListeners(0, this.halt.signal);
  }

  async start(): Promise<void> {
    const store = this.svc.store;
    // The events this process's commands commit are claimed here (store/queue/event-rows.ts).
    store.recentEvents.keep();
    if (store.kind === 'sqlite') {
      // One process owns a SQLite file, so any lease still open is from a process that is
      // gone (killed mid-delivery): those deliveries are due again now.
      const n = await releaseExpired(store, Date.now(), { all: true });
      if (n > 0) this.log.info({ released: n }, 'released leases left by a previous process');
    } else {
      this.unlisten = await store.listenForWork((channels) => this.wake(channels));
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

  /**
   * Something may be due: claim now rather than at the next timer. `channels`: the channels
   * the new work is for, when the caller knows them. If the last claim left every one of
   * them at its cap, nothing can be claimed for them until a response frees a slot (which
   * wakes this dispatcher itself), so the claim is skipped: at 1,000 commands/s each command
   * woke a claim that found its channel full (5,400 of 5,723 claims, docs/performance.md).
   */
  wake(channels?: readonly number[]): void {
    if (channels && channels.length > 0 && channels.every((c) => this.full.has(c))) return;
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
        const unrecorded = this.inFlight.size - this.requestCount;
        const free = unrecorded >= d.workerConcurrency * UNRECORDED_PER_SLOT ? 0 : d.workerConcurrency - this.requestCount;
        const claim = free > 0
          ? await claimDue(this.svc.store, { now, budget: free, leaseMs: d.timeoutMs + LEASE_MARGIN_MS, workerId: this.workerId, rotateAfter: this.rotateAfter, ownInFlight: this.requests })
          : null;
        if (claim && claim.rows.length > 0) {
          this.rotateAfter = claim.rows[claim.rows.length - 1]!.channel_id;
          await this.launch(claim.rows);
          this.noteFull(claim.full);
          // Every channel with due work is full or drained: wait for a wake-up (a response,
          // a command) or the next retry's time instead of claiming again for nothing.
          if (claim.more) continue;
        } else {
          this.rotateAfter = 0;
          if (claim) this.noteFull(claim.full);
        }
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

  private async launch(claimed: Selectable<DeliveryTable>[]): Promise<void> {
    const { jobs, unsendable } = await prepare(this.svc, claimed);
    for (const u of unsendable) {
      // Its channel or its event is gone: nothing can be sent, ever. Finish it visibly
      // (handing it back would have it claimed again at once, in a loop: the backlog
      // benchmark found that).
      await endDelivery(this.svc.store.db, u.id, u.transition, u.reason, Date.now());
    }
    for (const prepared of jobs) {
      const job: Job = { ...prepared, signal: this.halt.signal };
      this.inFlight.set(job.delivery.id, job);
      this.countRequest(job.channel.id, 1);
      this.metrics.inFlight.set(this.requestCount);
      void this.send(job);
    }
  }

  private async send(job: Job): Promise<void> {
    const startedAt = Date.now();
    const out = await send(this.senders, job, startedAt);
    // The response is in: the slot is free for the next claim, before the attempt is recorded.
    this.countRequest(job.channel.id, -1);
    this.full.delete(job.channel.id);
    this.metrics.inFlight.set(this.requestCount);
    if (job.signal.aborted && this.stopping) {
      // Shutdown cut this request short: not an attempt; hand the lease back.
      this.inFlight.delete(job.delivery.id);
      await releaseOwn(this.svc.store, this.workerId, [job.delivery.id], Date.now()).catch((err) => this.log.error({ err }, 'could not release a lease'));
      return;
    }
    this.metrics.latency.observe(out.result.latencyMs / 1000);
    this.metrics.attempts.inc({ outcome: out.result.ok ? 'success' : 'failure', error_kind: out.result.errorKind ?? '' });
    this.pending.push({ ...out, logs: out.logs ?? null, final: out.final ?? false, job, startedAt, failures: 0 });
    this.scheduleFlush();
    this.wakeSoon();
  }

  private noteFull(channels: readonly number[]): void {
    for (const c of channels) if ((this.requests.get(c) ?? 0) > 0) this.full.add(c);
  }

  private countRequest(channelId: number, by: 1 | -1): void {
    const n = (this.requests.get(channelId) ?? 0) + by;
    if (n === 0) this.requests.delete(channelId);
    else this.requests.set(channelId, n);
    this.requestCount += by;
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      // Let completions that finish in the same tick join this batch.
      await new Promise((r) => setImmediate(r));
      while (this.pending.length > 0 && !this.abandoned) {
        const batch = this.pending.splice(0, 500);
        const left = await recordIsolated(this.recorder, batch);
        const done = batch.filter((c) => !left.includes(c));
        for (const c of done) this.inFlight.delete(c.job.delivery.id);
        // Claims held back by the unrecorded bound may go on.
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
    this.halt.abort();
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
    await this.senders.webhook.close();
    await this.senders.email.close();
  }
}
