// Checking the triggers a user gives: a notification's list (event types, from/to filters,
// digests) and a pipeline's one trigger (fired kinds, cron schedules, Send email's limits).
// Pure: the schedules are parsed, nothing is read.
import { AppError } from './errors.js';
import { nextFire } from './cron.js';
import { FROM_TO_TRIGGERS, emailRefusal, firedKind, triggerType, type DigestTrigger, type EventTrigger, type Trigger } from './triggers.js';

/** A notification's triggers, checked and without repeats. */
export function checkTriggers(triggers: Trigger[]): Trigger[] {
  const seen = new Set<string>();
  const out: Trigger[] = [];
  for (const t of triggers) {
    const key = JSON.stringify(t);
    if (seen.has(key)) continue;
    seen.add(key);
    if (typeof t !== 'string' && 'event' in t && (t.from || t.to) && !FROM_TO_TRIGGERS.has(t.event)) {
      throw new AppError('validation_failed', `triggers: from/to filters apply to ${[...FROM_TO_TRIGGERS].join(' and ')} only, not ${t.event}.`);
    }
    if (firedKind(t) === 'periodic') checkDigest(t as DigestTrigger);
    if (typeof t !== 'string' && 'digest' in t) checkDigest(t.digest);
    out.push(t);
  }
  if (out.some((t) => t === 'all') && out.some((t) => t !== 'all' && triggerType(t) !== 'digest')) {
    throw new AppError('validation_failed', 'triggers: "all" already includes every event type; list it alone (a digest may stand beside it).');
  }
  if (out.filter((t) => triggerType(t) === 'digest').length > 1) throw new AppError('validation_failed', 'triggers: at most one digest per notification.');
  return out;
}

function checkDigest(d: DigestTrigger): void {
  try {
    nextFire(d, Date.now());
  } catch (err) {
    throw new AppError('validation_failed', `triggers: the digest schedule is not valid (${(err as Error).message}); use a 5-field cron like "0 17 * * *" and an IANA time zone like "Europe/Paris".`);
  }
}

/** A pipeline's trigger as stored: fired kinds keep only what they use, a plain event is its name. */
export function checkPipelineTrigger(t: EventTrigger): Trigger {
  const kind = firedKind(t);
  if (kind === 'periodic') {
    if (!t.cron) throw new AppError('validation_failed', 'trigger: a periodic trigger needs cron, a 5-field cron expression like "0 * * * *", and optionally tz (an IANA time zone, default UTC).');
    try {
      nextFire({ cron: t.cron, tz: t.tz }, Date.now());
    } catch (err) {
      throw new AppError('validation_failed', `trigger: the periodic schedule is not valid (${(err as Error).message}); use a 5-field cron like "*/15 * * * *" and an IANA time zone like "Europe/Paris".`);
    }
    return { event: 'periodic', cron: t.cron, tz: t.tz ?? 'UTC' };
  }
  if (t.cron !== undefined || t.tz !== undefined) throw new AppError('validation_failed', 'trigger: cron and tz belong to periodic triggers only.');
  if (kind) {
    if (t.from || t.to) throw new AppError('validation_failed', `trigger: from/to filters do not apply to ${kind} triggers.`);
    return { event: kind };
  }
  return t.from || t.to ? { event: t.event, ...(t.from ? { from: t.from } : {}), ...(t.to ? { to: t.to } : {}) } : t.event;
}

/** Seed 004: a Send email action may not run on incoming-webhook, periodic or item-level triggers. */
export function checkEmailTrigger(trigger: Trigger): void {
  const why = emailRefusal(trigger);
  if (why) {
    throw new AppError('email_trigger_not_allowed', `A Send email action cannot run on ${why} (seed 004: not on "Incoming webhook", "Periodic event" or item-related events); use a project event, a manual trigger, or a webhook or custom action instead.`);
  }
}
