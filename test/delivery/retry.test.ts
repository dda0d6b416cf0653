import { describe, expect, it } from 'vitest';
import { decide, withJitter } from '../../src/delivery/retry.js';
import { DEFAULT_SCHEDULE, loadDeliverySettings, parseDuration } from '../../src/model/delivery-settings.js';

const s = loadDeliverySettings({});
const healthy = { failure_streak: 0, first_failure_at: null, disable_after_failures: null };
const fail = (status: number | null, retryAfterMs: number | null = null) => ({ ok: false, status, retryAfterMs });

describe('retry policy', () => {
  it('publishes the default schedule: now, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h', () => {
    expect(s.schedule).toEqual([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    expect(DEFAULT_SCHEDULE).toHaveLength(8);
    expect(s.timeoutMs).toBe(30_000);
    expect(s.maxInFlight).toBe(32);
  });

  it('schedules the next retry with jitter within plus or minus 20%', () => {
    const now = 1_000_000;
    const low = decide(fail(500), 0, healthy, s, now, () => 0);
    const high = decide(fail(500), 0, healthy, s, now, () => 1);
    expect(low.next).toEqual({ status: 'pending', retryIndex: 1, at: now + 4_000 });
    expect(high.next).toEqual({ status: 'pending', retryIndex: 1, at: now + 6_000 });
    expect(withJitter(0, 0.2)).toBe(0);
  });

  it('dead-letters after the last scheduled attempt', () => {
    const d = decide(fail(500), s.schedule.length - 1, healthy, s, 0);
    expect(d.next).toEqual({ status: 'failed', reason: 'all 8 attempts failed' });
  });

  it('honours Retry-After within the bound', () => {
    const d = decide(fail(429, 120_000), 0, healthy, s, 0, () => 0.5);
    expect(d.next).toMatchObject({ at: 120_000 });
    const capped = decide(fail(503, 10 * 3_600_000), 0, healthy, s, 0, () => 0.5);
    expect(capped.next).toMatchObject({ at: s.maxRetryAfterMs });
  });

  it('disables on 410, on the streak, and after failing for the configured duration', () => {
    expect(decide(fail(410), 0, healthy, s, 0).disable).toMatch(/410 Gone/);
    expect(decide(fail(410), 0, healthy, s, 0).next.status).toBe('failed');
    expect(decide(fail(500), 0, { ...healthy, failure_streak: 49, disable_after_failures: 50 }, s, 0).disable).toMatch(/50 consecutive/);
    expect(decide(fail(500), 0, { ...healthy, failure_streak: 48, disable_after_failures: 50 }, s, 0).disable).toBeNull();
    const fiveDays = 5 * 86_400_000;
    expect(decide(fail(null), 0, { ...healthy, failure_streak: 3, first_failure_at: 0 }, s, fiveDays).disable).toMatch(/without a success since/);
    expect(decide(fail(null), 0, { ...healthy, failure_streak: 3, first_failure_at: 0 }, s, fiveDays - 1).disable).toBeNull();
    expect(decide({ ok: true, status: 200, retryAfterMs: null }, 3, { ...healthy, failure_streak: 9 }, s, 0)).toEqual({ next: { status: 'succeeded' }, disable: null });
  });

  it('parses durations and refuses nonsense', () => {
    expect(parseDuration('250ms', 'x')).toBe(250);
    expect(parseDuration('2h', 'x')).toBe(7_200_000);
    expect(() => parseDuration('soon', 'LABELCAST_X')).toThrow(/LABELCAST_X/);
    expect(loadDeliverySettings({ LABELCAST_RETRY_SCHEDULE: '0,1s,1m' }).schedule).toEqual([0, 1000, 60_000]);
    expect(s.labelStudioMaxFailures).toBe(50);
    expect(() => loadDeliverySettings({ LABELCAST_LABEL_STUDIO_MAX_FAILURES: 'many' })).toThrow(/LABELCAST_LABEL_STUDIO_MAX_FAILURES must be an integer/);
  });
});
