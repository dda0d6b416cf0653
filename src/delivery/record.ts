// The record stage: one transaction per batch of finished attempts: every attempt inserted,
// each delivery moved on (store/delivery-states.ts: succeed, retry, fail, or cancel when its
// channel was deleted meanwhile) under this worker's lease, channel health updated once per
// channel, and Slack's Retry-After held per destination. On SQLite each commit is an fsync;
// batching is what lets one disk keep up with thousands of deliveries a second.
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Services } from '../domain/context.js';
import { type SlackConfig } from '../model/channel-config.js';
import { maskHeaders } from '../model/header-masking.js';
import type { Tx } from '../store/db.js';
import { endDelivery, finishLeasedAll, holdChannel, insertAttempts, loadHealth, saveHealth, slackChannelsOf, type Finish } from '../store/queue/complete.js';
import { openConfig } from '../store/sealed.js';
import { slackDestination } from '../transports/slack.js';
import type { Completion } from './job.js';
import type { Metrics } from './metrics.js';
import { decide } from './retry.js';

// A completion whose record failed on its own this many times, while a plain update of its
// delivery still succeeds, is a bad row, not a database away: it is ended as failed.
const POISON_AFTER = 3;

export interface Recorder {
  svc: Services;
  metrics: Metrics;
  log: Logger;
  workerId: string;
}

/**
 * Records a batch; returns the completions that could not be recorded. One bad row must
 * not hold the rest (issue 10: one row that threw kept a whole batch, and every later
 * completion that joined it, unrecorded forever): when the batch fails, each completion
 * is recorded on its own. A completion that keeps failing on its own while the database
 * answers is ended as failed with the reason, visible and resendable, rather than kept.
 */
export async function recordIsolated(r: Recorder, batch: Completion[]): Promise<Completion[]> {
  try {
    await record(r, batch);
    return [];
  } catch (err) {
    r.log.error({ err, count: batch.length }, batch.length > 1 ? 'could not record a batch of attempts; recording them one by one' : 'could not record an attempt');
    if (batch.length === 1) batch[0]!.lastError = err;
  }
  const left: Completion[] = [];
  for (const c of batch) {
    if (batch.length > 1) {
      try {
        await record(r, [c]);
        continue;
      } catch (err) {
        r.log.error({ err, delivery: c.job.delivery.id, channel: c.job.channel.id }, 'could not record this attempt');
        c.lastError = err;
      }
    }
    c.failures += 1;
    if (c.failures >= POISON_AFTER && (await endUnrecordable(r, c))) continue;
    left.push(c);
  }
  return left;
}

/** The last resort for a completion whose record keeps failing: end its delivery, visibly. */
async function endUnrecordable(r: Recorder, c: Completion): Promise<boolean> {
  const why = c.lastError instanceof Error ? c.lastError.message : String(c.lastError ?? 'unknown error');
  try {
    await endDelivery(r.svc.store.db, c.job.delivery.id, 'fail', `the attempt could not be recorded: ${why}`, Date.now(), r.workerId);
    r.log.error({ delivery: c.job.delivery.id, channel: c.job.channel.id }, 'gave up recording an attempt; its delivery is marked failed');
    r.metrics.deliveries.inc({ outcome: 'failed' });
    return true;
  } catch {
    return false;
  }
}

/** One transaction: every attempt of the batch, its delivery's new state, channel health. */
async function record(r: Recorder, batch: Completion[]): Promise<void> {
  const s = r.svc.delivery;
  const outcomes: string[] = [];
  await r.svc.store.tx(async (trx) => {
    const health = await loadHealth(trx, r.svc.store.kind, [...new Set(batch.map((c) => c.job.channel.id))]);
    const changed = new Map<number, string | null>();
    await insertAttempts(
      trx,
      r.svc.store.kind,
      batch.map((c) => ({
        delivery_id: c.job.delivery.id,
        channel_id: c.job.channel.id,
        attempt_no: c.job.delivery.attempt_count + 1,
        started_at: c.startedAt,
        latency_ms: c.result.latencyMs,
        url: c.url,
        request_headers: JSON.stringify(maskHeaders(c.headers)),
        request_body: c.bodyFrom ? '' : c.body,
        request_body_from: c.bodyFrom ?? null,
        response_status: c.result.status,
        response_body: c.result.responseBody,
        outcome: c.result.ok ? 'success' : 'failure',
        worker: r.workerId,
        error_kind: c.result.errorKind,
        error_message: c.result.errorMessage,
        logs: c.logs ?? null,
      })),
    );
    const now = Date.now();
    const finishes: Finish[] = [];
    for (const c of batch) {
      const base = { id: c.job.delivery.id, attemptCount: c.job.delivery.attempt_count + 1, lastStatus: c.result.status };
      const h = health.get(c.job.channel.id);
      if (!h) {
        // Its channel was deleted while the request was in flight (with its notification,
        // /v1/webhooks webhook or pipeline): the attempt above is history; the delivery
        // ends cancelled, and there is no health left to update.
        finishes.push({ ...base, transition: 'cancel', lastError: 'its channel was deleted while this attempt was in flight' });
        outcomes.push('cancelled');
        continue;
      }
      const decision = c.final && !c.result.ok ? { next: { status: 'failed' as const, reason: 'the handler failed' }, disable: null } : decide(c.result, c.job.delivery.retry_index, h, s, now);
      const next = decision.next;
      const finish: Finish =
        next.status === 'pending'
          ? { ...base, transition: 'retry', lastError: c.result.errorMessage, retryIndex: next.retryIndex, nextAttemptAt: next.at }
          : next.status === 'failed'
            ? { ...base, transition: 'fail', lastError: `${c.result.errorMessage ?? ''} (${next.reason})`.trim() }
            : { ...base, transition: 'succeed', lastError: c.result.errorMessage };
      finishes.push(finish);
      outcomes.push(next.status === 'pending' ? 'retrying' : next.status);
      if (c.result.ok) {
        if (h.failure_streak !== 0 || h.first_failure_at !== null) {
          h.failure_streak = 0;
          h.first_failure_at = null;
          if (!changed.has(h.id)) changed.set(h.id, null);
        }
      } else {
        h.failure_streak += 1;
        h.first_failure_at ??= now;
        if (!changed.has(h.id)) changed.set(h.id, null);
        if (decision.disable && h.disabled_at === null) {
          h.disabled_at = now;
          changed.set(h.id, decision.disable);
        }
      }
    }
    await finishLeasedAll(trx, r.svc.store.kind, r.workerId, finishes, now);
    await holdRateLimited(r, trx, batch, now);
    for (const [id, disabledReason] of changed) {
      await saveHealth(trx, health.get(id)!, disabledReason, now);
      if (disabledReason) r.log.warn({ channel: id, reason: disabledReason }, 'channel disabled');
    }
    // Not durable (store/connect.ts TxOptions): records lost in a power cut leave their
    // deliveries leased or pending, so they are sent again after the restart (at-least-once);
    // a process crash loses nothing (SQLite's WAL; PostgreSQL ignores the option).
  }, { durable: false });
  for (const o of outcomes) r.metrics.deliveries.inc({ outcome: o });
}

/**
 * Slack answered 429 with Retry-After: nothing more goes to that conversation until then,
 * whichever message is next and whichever Labelcast channel posts there (issue 10: the
 * next message was sent anyway and got a 429 too). The time is kept on the channel rows,
 * so every worker process honours it.
 */
async function holdRateLimited(r: Recorder, trx: Tx, batch: Completion[], now: number): Promise<void> {
  const limited = batch.filter((c) => c.job.channel.kind === 'slack' && c.result.status === 429 && c.result.retryAfterMs !== null);
  if (limited.length === 0) return;
  const { channels, teams } = await slackChannelsOf(trx, [...new Set(limited.map((c) => c.job.channel.org_id))]);
  // Incoming-webhook URLs are sealed with a random IV, so two channels posting to one URL
  // differ at rest: they are matched on the opened URL (a 429 is rare; opening is cheap).
  const destination = (orgId: number, config: string) => {
    let cfg: SlackConfig;
    try {
      cfg = openConfig<SlackConfig>(r.svc.ring, 'slack', config);
    } catch {
      return null;
    }
    return `${orgId}/${slackDestination(cfg, cfg.via === 'bot' ? (teams.get(cfg.connection_id) ?? null) : null)}`;
  };
  const until = new Map<string, number>();
  for (const c of limited) {
    const key = destination(c.job.channel.org_id, c.job.channel.config);
    if (key === null) continue;
    until.set(key, Math.max(until.get(key) ?? 0, now + Math.min(c.result.retryAfterMs!, r.svc.delivery.maxRetryAfterMs)));
  }
  for (const ch of channels) {
    const key = destination(ch.org_id, ch.config);
    const at = key === null ? undefined : until.get(key);
    if (at !== undefined) await holdChannel(trx, ch.id, at);
  }
}
