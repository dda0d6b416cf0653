// Triggers: which events a notification (or a SuperAnnotate pipeline, issue 13, seed 004)
// runs on. Pure: no I/O, no imports above the model, so routing, the scheduler and the API
// share it. Checking a user's triggers is model/trigger-checks.ts.
//
// Kinds:
// - entity events: a canonical event type ('project.status_changed', 'task.created', ...);
// - "Annotation status updated": a trigger derived from task events, with from/to over
//   SuperAnnotate's item statuses (New, InProgress, QualityCheck, Returned, Completed);
// - incoming_webhook, periodic (cron in a time zone) and manual: fired by a request, the
//   scheduler or the API, never by routing; stored as {event: kind, ...} so routing's
//   "t.event === ev.type" can never match them;
// - the digest: {digest: {cron, tz, window_hours, send_empty}} (schedule/digests.ts).
// This is the one Trigger type: notifications, pipelines, routing, the scheduler and the
// API's TypeBox schemas (which accept a subset of it) all use it.

export const ANNOTATION_STATUS_CHANGED = 'task.annotation_status_changed';
export const ANNOTATION_STATUSES = ['New', 'InProgress', 'QualityCheck', 'Returned', 'Completed'] as const;
export const FIRED_KINDS = ['incoming_webhook', 'periodic', 'manual'] as const;
export type FiredKind = (typeof FIRED_KINDS)[number];

/** Event types whose triggers take from/to filters, and the values they filter on. */
export const FROM_TO_TRIGGERS = new Set(['project.status_changed', ANNOTATION_STATUS_CHANGED]);

/** The canonical events the annotation-status trigger is derived from. */
export const ANNOTATION_STATUS_SOURCES = ['task.submitted', 'task.completed', 'review.rejected'];

export interface DigestTrigger {
  /** Cron (5 fields) in tz; default "0 17 * * *" UTC, the seed's 5 pm UTC daily digest. */
  cron?: string | undefined;
  tz?: string | undefined;
  /** The period the digest covers, ending at each run; default 24 hours. */
  window_hours?: number | undefined;
  /** Send a digest with no activity; default false (skip it). */
  send_empty?: boolean | undefined;
}

/**
 * An event type with filters on its from/to values (project.status_changed, the derived
 * annotation-status event), or a fired kind: {event: 'incoming_webhook' | 'periodic' (cron,
 * tz) | 'manual'}. A pipeline's trigger is always one of these.
 */
export interface EventTrigger {
  event: string;
  from?: string[] | undefined;
  to?: string[] | undefined;
  cron?: string | undefined;
  tz?: string | undefined;
}

/** A notification's trigger: an event type by name ('all' for every one), an event trigger, or a digest. */
export type Trigger = string | EventTrigger | { digest: DigestTrigger };

export const triggerType = (t: Trigger): string => (typeof t === 'string' ? t : 'digest' in t ? 'digest' : t.event);

export interface EventLike {
  type: string;
  data: Record<string, unknown>;
  before?: unknown;
}

export function firedKind(t: unknown): FiredKind | null {
  if (typeof t !== 'object' || t === null || !('event' in t)) return null;
  const e = (t as { event: unknown }).event;
  return (FIRED_KINDS as readonly unknown[]).includes(e) ? (e as FiredKind) : null;
}

const stageStatus = (kind: unknown): string => (kind === 'complete' ? 'Completed' : kind === 'review' ? 'QualityCheck' : 'InProgress');

/**
 * The item's annotation status before and after a task event, as the superannotate dialect
 * names it, or null when the event does not change it. A submission goes InProgress ->
 * QualityCheck (review stage) or -> Completed; a rejection QualityCheck -> Returned; the
 * last accepted label QualityCheck -> Completed (a completion straight from a submission is
 * the submission's change, not a second one). Adding the first label (New -> InProgress) is
 * not derived: annotation.created does not say whether the task had labels before.
 */
export function annotationStatusChange(ev: EventLike): { from: string; to: string } | null {
  const d = ev.data as Record<string, any>;
  if (ev.type === 'task.submitted') return { from: stageStatus(d.from_stage), to: stageStatus(d.to_stage) };
  if (ev.type === 'review.rejected') return { from: 'QualityCheck', to: 'Returned' };
  if (ev.type === 'task.completed') {
    const before = ev.before as { stage?: { kind?: string } } | undefined;
    return before?.stage?.kind === 'review' ? { from: 'QualityCheck', to: 'Completed' } : null;
  }
  return null;
}

/** The from/to values an event offers a from/to trigger, or null when it has none. */
export function fromToOf(t: EventTrigger, ev: EventLike): { from: string; to: string } | null {
  if (t.event === ANNOTATION_STATUS_CHANGED) return annotationStatusChange(ev);
  if (t.event === ev.type && ev.type === 'project.status_changed') return { from: String(ev.data.from), to: String(ev.data.to) };
  return null;
}

/** Does an event trigger {event, from?, to?}? Fired kinds never match an event. */
export function eventTriggerMatches(t: EventTrigger, ev: EventLike): boolean {
  if (firedKind(t) !== null) return false;
  if (t.event === ANNOTATION_STATUS_CHANGED) {
    const change = annotationStatusChange(ev);
    if (!change || change.from === change.to) return false;
    if (t.from && !t.from.includes(change.from)) return false;
    if (t.to && !t.to.includes(change.to)) return false;
    return true;
  }
  if (t.event !== ev.type) return false;
  // SuperAnnotate's "Project status updated" trigger with from/to filters (seed 004).
  if (t.from && !t.from.includes(String(ev.data.from))) return false;
  if (t.to && !t.to.includes(String(ev.data.to))) return false;
  return true;
}

/** The canonical event types a trigger can be routed from (for dialect checks). */
export function triggerSourceTypes(t: EventTrigger): string[] {
  if (firedKind(t) !== null) return [];
  if (t.event === ANNOTATION_STATUS_CHANGED) return ANNOTATION_STATUS_SOURCES;
  return t.event ? [t.event] : [];
}

/**
 * Seed 004, Send email: "The action cannot be linked to the 'Incoming webhook', 'Periodic
 * event' and item-related events." Item-related: every task, annotation and review event.
 * Returns why not, or null when email may go with this trigger.
 */
export function emailRefusal(t: Trigger): string | null {
  const event = typeof t === 'string' ? t : 'event' in t ? t.event : '';
  if (event === 'incoming_webhook') return 'an incoming-webhook trigger';
  if (event === 'periodic') return 'a periodic trigger';
  if (event === 'all') return 'every event, item events included';
  if (!event.startsWith('project.') && event !== 'manual') return `the item-level event ${event}`;
  return null;
}

/** Seed 004's email names for the events an email action may carry. */
export const EMAIL_EVENT_NAMES: Record<string, string> = {
  'project.created': 'Project created',
  'project.updated': 'Project updated',
  'project.deleted': 'Project deleted',
  'project.status_changed': 'Project status updated',
  'pipeline.manual': 'Manual run',
};
