// Digest schedules: a 5-field cron in a time zone (default: the seed's daily 17:00 UTC).
import { CronExpressionParser } from 'cron-parser';

export const DEFAULT_DIGEST_CRON = '0 17 * * *';

export interface Schedule {
  cron?: string | undefined;
  tz?: string | undefined;
}

function parse(s: Schedule, at: number) {
  const cron = s.cron ?? DEFAULT_DIGEST_CRON;
  if (cron.trim().split(/\s+/).length !== 5) throw new Error(`'${cron}' does not have 5 fields`);
  return CronExpressionParser.parse(cron, { tz: s.tz ?? 'UTC', currentDate: new Date(at) });
}

/** The last run at or before `at` (ms), or null if there is none in the past year. */
export function lastFire(s: Schedule, at: number): number | null {
  const it = parse(s, at + 1);
  try {
    return it.prev().getTime();
  } catch {
    return null;
  }
}

/** The next run strictly after `at`. */
export function nextFire(s: Schedule, at: number): number {
  return parse(s, at).next().getTime();
}
