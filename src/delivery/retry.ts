// What an attempt's outcome means for its delivery and its channel. Pure: the dispatcher
// applies the decision in the database.
import type { SendResult } from '../model/send-result.js';
import type { DeliverySettings } from '../model/delivery-settings.js';

export type Next =
  | { status: 'succeeded' }
  | { status: 'failed'; reason: string }
  | { status: 'pending'; retryIndex: number; at: number };

export interface Decision {
  next: Next;
  /** Disable the channel now, with this reason shown on its notification. */
  disable: string | null;
}

export interface ChannelHealth {
  failure_streak: number;
  first_failure_at: number | null;
  disable_after_failures: number | null;
}

export function withJitter(delayMs: number, jitter: number, random: () => number = Math.random): number {
  if (delayMs === 0) return 0;
  return Math.round(delayMs * (1 - jitter + 2 * jitter * random()));
}

export function decide(
  r: Pick<SendResult, 'ok' | 'status' | 'retryAfterMs'>,
  retryIndex: number,
  health: ChannelHealth,
  s: DeliverySettings,
  now: number,
  random: () => number = Math.random,
): Decision {
  if (r.ok) return { next: { status: 'succeeded' }, disable: null };
  // 410 Gone: the receiver says the endpoint is gone for good (Svix, Stripe do the same).
  if (r.status === 410) {
    return { next: { status: 'failed', reason: 'receiver answered 410 Gone' }, disable: 'The receiver answered 410 Gone: the endpoint no longer exists. Fix the URL, then re-enable the channel.' };
  }
  const streak = health.failure_streak + 1;
  const failingSince = health.first_failure_at ?? now;
  let disable: string | null = null;
  if (health.disable_after_failures !== null && streak >= health.disable_after_failures) {
    disable = `Disabled after ${streak} consecutive failed attempts.`;
  } else if (now - failingSince >= s.disableAfterMs) {
    disable = `Disabled after failing without a success since ${new Date(failingSince).toISOString()}.`;
  }
  const nextIndex = retryIndex + 1;
  if (nextIndex >= s.schedule.length) {
    return { next: { status: 'failed', reason: `all ${s.schedule.length} attempts failed` }, disable };
  }
  let delay = withJitter(s.schedule[nextIndex]!, s.jitter, random);
  if (r.retryAfterMs !== null) delay = Math.max(delay, Math.min(r.retryAfterMs, s.maxRetryAfterMs));
  return { next: { status: 'pending', retryIndex: nextIndex, at: now + delay }, disable };
}
