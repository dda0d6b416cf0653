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
import type { Handoff, HandoffLease, Services } from '../domain/context.js';
import type { ActionRunner } from '../model/action-run.js';
import { keepInOutbox } from '../store/email-outbox.js';
import { claimDue } from '../store/queue/claim.js';
import type { ChannelTable, DeliveryTable } from '../store/schema.js';
import { endDelivery } from '../store/queue/complete.js';
import { nextDueAt } from '../store/queue/next-due.js';
import { releaseExpired, releaseOwn } from '../store/queue/release.js';
import { createEmailSender } from '../transports/email.js';
import { createWebhookSender } from '../transports/webhook.js';
import type { Completion, Job, Senders } from './job.js';
import { LEASE_MARGIN_MS } from './lease.js';
import type { Metrics } from './metrics.js';
import { OpenedChannels, prepare, type Prepared } from './prepare.js';
import { recordIsolated, type Recorder } from './record.js';
import { send } from './send.js';

export const USER_AGENT = 'Labelcast-Webhooks/0.1';
// How long freed slots wait to be refilled together (see wakeSoon).
const CLAIM_COALESCE_MS = 2;
// How long a claim that found nothing left behind spares the claims after responses (see
// idle): at most 40 empty claims a second instead of one per response, and a delivery that
// falls due by the clock alone waits at most this much longer for a claim.
const IDLE_MS = 25;
// How long answered attempts wait to be recorded together (see scheduleFlush).
const RECORD_COALESCE_MS = 2;
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

export class Dispatcher implements Handoff {
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
  /** Slots reserved by commands not yet committed (Handoff): counted in `requests`, no row yet. */
  private reserved = 0;
  /**
   * Rows counted in `requests` whose jobs are not in `inFlight` yet: claimed, or handed off
   * and committed, and being prepared.
   */
  private readonly launching = new Set<number>();
  /**
   * Channels a command left a pending delivery for since the last claim that drained them:
   * not offered to the handoff, which would have to refuse them (older rows go first).
   */
  private readonly waiting = new Set<number>();
  /** Handed-off rows committed and waiting for the next launch, and their channels. */
  private handed: Selectable<DeliveryTable>[] = [];
  private handedChannels = new Map<number, Selectable<ChannelTable>>();
  /** Channels' secrets and configs as opened for sending (prepare.ts OpenedChannels). */
  private readonly opened = new OpenedChannels();
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
    // Nothing is waiting for a slot (see idle): a claim now would find nothing.
    if (this.wakeTimer || (this.idle && Date.now() - this.idleSince < IDLE_MS)) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.rouse();
    }, CLAIM_COALESCE_MS);
  }

  /**
   * The last claim found nothing due that it left behind (no channel left at its cap with due
   * work, none cut off by the budget), and no new work was signalled since: a slot freed by a
   * response has nothing to take, and is not worth a claim. Its rows came from the handoff;
   * at 1,000 events/s, with every delivery handed off, the claims after responses found
   * nothing 3,789 times in 10,000 events, at ~150 us of SQLite each (docs/performance.md,
   * round 7). New work clears it: a wake-up (a command, a NOTIFY, the scheduler), a retry
   * recorded, a lease released. The timer (run) claims whatever it says. It holds for
   * IDLE_MS at most: the claim cannot see rows that fall due by the clock alone on a paced
   * channel or one held by a Retry-After. SQLite only (see run).
   */
  private idle = false;
  private idleSince = 0;
  /** Counts wake-ups, so that a claim's finding is not taken as news that came after it. */
  private wakes = 0;

  /**
   * Something may be due: claim now rather than at the next timer. `channels`: the channels
   * the new work is for, when the caller knows them. If the last claim left every one of
   * them at its cap, nothing can be claimed for them until a response frees a slot (which
   * wakes this dispatcher itself), so the claim is skipped: at 1,000 commands/s each command
   * woke a claim that found its channel full (5,400 of 5,723 claims, docs/performance.md).
   */
  wake(channels?: readonly number[]): void {
    this.idle = false;
    this.wakes++;
    if (channels && channels.length > 0 && channels.every((c) => this.full.has(c))) return;
    this.rouse();
  }

  /** Ends the loop's sleep: it claims at once. */
  private rouse(): void {
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
        if (now - this.lastReclaim >= d.pollMs) {
          this.lastReclaim = now;
          // PostgreSQL: leases of workers that stopped answering. SQLite: leases this process
          // holds no job for (a handed-off delivery whose command was reported failed by a log
          // sync that failed after its commit, or a row it could not finish): at one process
          // per file, nobody else would ever release them before the next start.
          const keep = this.svc.store.kind === 'sqlite' ? { keep: [...this.inFlight.keys(), ...this.launching] } : {};
          const n = await releaseExpired(this.svc.store, now, keep);
          if (n > 0) {
            this.idle = false;
            this.log.warn({ released: n }, 'released expired leases no worker is sending');
          }
        }
        // Asked again inside the claim (claim.ts): a command may hand off meanwhile.
        const budget = () => (this.unrecorded() >= d.workerConcurrency * UNRECORDED_PER_SLOT ? 0 : d.workerConcurrency - this.requestCount);
        const free = budget();
        let claim: Awaited<ReturnType<typeof claimDue>> | null = null;
        const wakes = this.wakes;
        if (free > 0) {
          let counted: Selectable<DeliveryTable>[] = [];
          // The claimed rows are counted inside the claim's transaction, before a command's
          // handoff can ask for their channels' slots.
          const onClaimed = (rows: Selectable<DeliveryTable>[]) => {
            for (const r of rows) {
              this.countRequest(r.channel_id, 1);
              this.launching.add(r.id);
            }
            counted = rows;
          };
          try {
            claim = await claimDue(this.svc.store, { now, budget, leaseMs: d.timeoutMs + LEASE_MARGIN_MS, workerId: this.workerId, rotateAfter: this.rotateAfter, ownInFlight: this.requests, onClaimed });
          } catch (err) {
            // Its transaction did not commit: the rows are not ours.
            for (const r of counted) {
              this.countRequest(r.channel_id, -1);
              this.launching.delete(r.id);
            }
            throw err;
          }
        }
        // A claim that could find no more left every channel with due work full or drained:
        // the ones not left full have nothing waiting now. Channels it drained have nothing
        // waiting either, even when it could find more elsewhere (more than its 200 channels
        // with due work: they would otherwise stay out of the handoff).
        if (claim && !claim.more) for (const c of this.waiting) if (!claim.full.includes(c)) this.waiting.delete(c);
        if (claim) for (const c of claim.drained) this.waiting.delete(c);
        // SQLite only: on PostgreSQL a claim skips the channels another worker's claim has
        // locked (SKIP LOCKED), so finding nothing there says nothing (the scale-out bench,
        // two workers on one backlog: 1.80-1.89x with one worker's throughput -> 1.44x).
        if (claim && this.svc.store.kind === 'sqlite') {
          this.idle = !claim.more && claim.full.length === 0 && this.wakes === wakes;
          if (this.idle) this.idleSince = Date.now();
        }
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

  /** Requests counted whose jobs are not in `inFlight` yet (reserved, or being prepared). */
  private get unlaunched(): number {
    return this.reserved + this.launching.size;
  }

  /** Answered attempts not recorded yet (counted requests not yet launched are neither). */
  private unrecorded(): number {
    return this.inFlight.size - (this.requestCount - this.unlaunched);
  }

  /**
   * Sends leased rows, claimed or handed off: each is counted in `requests` and `launching`
   * already (so that neither a claim nor a handoff can take its slot meanwhile).
   */
  private async launch(rows: Selectable<DeliveryTable>[], channels?: ReadonlyMap<number, Selectable<ChannelTable>>): Promise<void> {
    let prepared: Prepared;
    try {
      prepared = await prepare(this.svc, rows, { opened: this.opened, ...(channels ? { channels } : {}) });
    } catch (err) {
      // The database is away: the leases go back to pending now if it allows, or when they
      // expire (run above).
      this.log.error({ err }, 'could not prepare leased deliveries; releasing them');
      return this.giveBack(rows);
    }
    // Shutdown began meanwhile: too late to send them.
    if (this.stopping) return this.giveBack(rows);
    for (const r of rows) this.launching.delete(r.id);
    for (const p of prepared.jobs) {
      const job: Job = { ...p, signal: this.halt.signal };
      this.inFlight.set(job.delivery.id, job);
      void this.send(job);
    }
    if (prepared.unsendable.length === 0) return;
    const channelOf = new Map(rows.map((r) => [r.id, r.channel_id]));
    for (const u of prepared.unsendable) this.freeSlot(channelOf.get(u.id)!);
    try {
      for (const u of prepared.unsendable) {
        // Its channel or its event is gone: nothing can be sent, ever. Finish it visibly
        // (handing it back would have it claimed again at once, in a loop: the backlog
        // benchmark found that).
        await endDelivery(this.svc.store.db, u.id, u.transition, u.reason, Date.now());
      }
    } catch (err) {
      // Left leased: released when its lease expires (run above), and finished then.
      this.log.error({ err }, 'could not finish an unsendable delivery');
    }
  }

  /** Leased rows not launched: their slots freed, their leases handed back. */
  private async giveBack(rows: Selectable<DeliveryTable>[]): Promise<void> {
    // Counted until released, so that shutdown waits for the release.
    await releaseOwn(this.svc.store, this.workerId, rows.map((r) => r.id), Date.now()).catch((err) => this.log.error({ err }, 'could not release leases'));
    for (const r of rows) this.launching.delete(r.id);
    // They are due again, here and for other workers (PostgreSQL).
    this.idle = false;
    for (const r of rows) this.freeSlot(r.channel_id);
    this.svc.store.notifyWork([...new Set(rows.map((r) => r.channel_id))]);
  }

  /** A counted slot given up without a response: claims may use it again. */
  private freeSlot(channelId: number): void {
    this.countRequest(channelId, -1);
    this.full.delete(channelId);
    this.wakeSoon();
  }

  // ------------------------------------------------------------ Handoff (domain/handoff.ts)
  // A command's deliveries, written leased to this worker and given to it at commit, skip
  // the claim. SQLite only: one process owns the file, so this worker's own count of its
  // requests is the whole truth the channel caps need beside the store's room (store/queue/
  // handoff.ts); with several workers (PostgreSQL) the claim's row locks keep the caps.

  open(channelId: number): boolean {
    if (this.loop === null || this.stopping || this.svc.store.kind !== 'sqlite') return false;
    if (this.full.has(channelId) || this.waiting.has(channelId)) return false;
    const d = this.svc.delivery;
    // The claim's own budget: free concurrency, and records not allowed to fall behind.
    return this.requestCount < d.workerConcurrency && this.unrecorded() < d.workerConcurrency * UNRECORDED_PER_SLOT;
  }

  reserve(channelId: number, room: number | null): HandoffLease | null {
    const mine = this.requests.get(channelId) ?? 0;
    if (room === null || !this.open(channelId) || mine >= room) {
      // Its delivery is written pending: until a claim drains the channel, later ones would
      // only be refused too (under load, every one: the store's read is spared them).
      this.waiting.add(channelId);
      // At its cap with requests of ours: as if a claim had left it full, so that the
      // command's wake-up skips a claim that could take nothing (see wake).
      if (room !== null && mine > 0 && mine >= room) this.full.add(channelId);
      return null;
    }
    this.countRequest(channelId, 1);
    this.reserved++;
    const d = this.svc.delivery;
    return { workerId: this.workerId, leaseUntil: Date.now() + d.timeoutMs + LEASE_MARGIN_MS };
  }

  cancel(channelId: number): void {
    this.reserved--;
    this.freeSlot(channelId);
  }

  accept(rows: Selectable<DeliveryTable>[], channels: Selectable<ChannelTable>[]): void {
    // One launch for every command answered in this turn of the event loop (a group commit
    // answers all of its commands at once): one prepare per group, as a claim would have.
    if (this.handed.length === 0) {
      setImmediate(() => {
        const batch = this.handed;
        const known = this.handedChannels;
        this.handed = [];
        this.handedChannels = new Map();
        void this.launch(batch, known);
      });
    }
    this.handed.push(...rows);
    // Their slots, reserved until now, are theirs.
    this.reserved -= rows.length;
    for (const r of rows) this.launching.add(r.id);
    // The latest committed read of each channel.
    for (const c of channels) this.handedChannels.set(c.id, c);
  }

  private async send(job: Job): Promise<void> {
    const startedAt = Date.now();
    const out = await send(this.senders, job, startedAt);
    // The response is in: the slot is free for the next claim, before the attempt is recorded.
    this.countRequest(job.channel.id, -1);
    this.full.delete(job.channel.id);
    if (job.signal.aborted && this.stopping) {
      // Shutdown cut this request short: not an attempt; hand the lease back.
      this.inFlight.delete(job.delivery.id);
      await releaseOwn(this.svc.store, this.workerId, [job.delivery.id], Date.now()).catch((err) => this.log.error({ err }, 'could not release a lease'));
      // Due again: other workers (PostgreSQL) may take it at once.
      this.svc.store.notifyWork([job.channel.id]);
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
    this.metrics.inFlight.set(this.requestCount);
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      // Let completions that finish in the next milliseconds join this batch.
      await new Promise((r) => setTimeout(r, RECORD_COALESCE_MS));
      while (this.pending.length > 0 && !this.abandoned) {
        const batch = this.pending.splice(0, 500);
        const left = await recordIsolated(this.recorder, batch);
        const done = batch.filter((c) => !left.includes(c));
        for (const c of done) this.inFlight.delete(c.job.delivery.id);
        // A failed attempt may have a retry due already (a schedule may start at 0).
        if (done.some((c) => !c.result.ok)) this.idle = false;
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
    // Handed-off deliveries whose commands are still committing are waited for too.
    while ((this.inFlight.size > 0 || this.unlaunched > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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
