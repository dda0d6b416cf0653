// Routing: an event becomes one delivery per matching channel, inside the transaction that
// writes the event. So a delivery exists exactly when its event does: no event is skipped or
// routed twice, whatever crashes or how many processes run, and a notification created after
// an event never receives it (it did not exist when the event committed). The event row
// counts the deliveries written with it (store/queue/enqueue.ts writeEvent): no delivery of
// an event is written anywhere else.
import type { Insertable } from 'kysely';
import type { Ctx } from './context.js';
import type { DeliveryTable, EmailItemTable } from '../store/schema.js';
import type { ChannelTarget } from '../store/queue/routes.js';
import { dialect } from '../dialects/index.js';
import { DIALECTS_WITH_PROJECT_STATE, PROJECT_STATE_KEY } from '../dialects/dialect.js';

export { PROJECT_STATE_KEY };
import { getProject } from './project-reads.js';
import { eventTriggerMatches, type Trigger } from '../model/triggers.js';
import { WorkChannels } from '../model/work-signal.js';

export interface RoutableEvent {
  id: string;
  type: string;
  project_id: number | null;
  data: Record<string, unknown>;
  /** What the event changed from (task transitions: the task before), for derived triggers. */
  before?: unknown;
}

export type { ChannelTarget };

function triggerMatches(t: Trigger, ev: RoutableEvent): boolean {
  if (typeof t === 'string') return t === 'all' || t === ev.type;
  // Digests run on their schedule (schedule/digests.ts), not in reaction to events.
  if ('digest' in t) return false;
  // Event types, from/to filters, SuperAnnotate's derived triggers (model/triggers.ts).
  return eventTriggerMatches(t, ev);
}

/** A target's JSON columns, parsed once per cached row (the routes are shared and never mutated). */
interface Parsed {
  triggers: Trigger[];
  scope: 'all' | number[];
  config: { dialect?: string; recipients?: string[]; format?: string };
}
const parsedTargets = new WeakMap<ChannelTarget, Parsed>();

function parsed(t: ChannelTarget): Parsed {
  let p = parsedTargets.get(t);
  if (!p) {
    p = { triggers: JSON.parse(t.triggers) as Trigger[], scope: JSON.parse(t.scope) as Parsed['scope'], config: JSON.parse(t.config) as Parsed['config'] };
    parsedTargets.set(t, p);
  }
  return p;
}

/** Does a notification with this scope and these triggers want the event? */
function matches(target: Parsed, ev: RoutableEvent): boolean {
  if (!target.triggers.some((t) => triggerMatches(t, ev))) return false;
  return target.scope === 'all' || (ev.project_id !== null && target.scope.includes(ev.project_id));
}

/** How many messages the channel's dialect makes of the event (0: it has none for it). */
function partsFor(target: ChannelTarget, cfg: Parsed['config'], ev: RoutableEvent): number {
  // Slack, pipeline emails and custom actions take every event they are routed.
  if (target.kind === 'slack' || target.kind === 'email' || target.kind === 'action') return 1;
  if (cfg.dialect === undefined) return 0;
  const d = dialect(cfg.dialect);
  if (!d.supports(ev.type)) return 0;
  // Label Studio sends project deletions to organization-level webhooks only (seed 003).
  if (cfg.dialect === 'label-studio' && ev.type === 'project.deleted' && target.scope !== '"all"') return 0;
  return d.parts(ev);
}

export interface Routed {
  /** One per matching channel and part, for the caller to write with its event. */
  deliveries: Insertable<DeliveryTable>[];
  /** One per windowed email recipient, written once the event is (writeEmailItems). */
  emails: Insertable<EmailItemTable>[];
  /** The data to store with the event: its own, plus the project's state when a channel needs it. */
  data: Record<string, unknown>;
}

/**
 * The project with its counters as of this transaction, for bodies that carry them; null
 * when the event deleted the project. Counted only when such a channel matched: counting
 * is a scan of the project's tasks and labels, too much to pay on every event.
 */
async function projectState(ctx: Ctx, projectId: number): Promise<Record<string, unknown> | null> {
  try {
    return (await getProject(ctx.trx, ctx.store.kind, ctx.actor.org_id, projectId)) as unknown as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * What an event becomes for these targets (an organization's routes, store/queue/routes.ts).
 * Writes nothing: the caller writes the event with its deliveries only if the routes were
 * still current, and routes again otherwise (domain/events.ts).
 */
export async function routeEvent(ctx: Ctx, ev: RoutableEvent, targets: readonly ChannelTarget[]): Promise<Routed> {
  // Channels switched off by the user get nothing (they are not among the targets); channels
  // disabled by failures still get their deliveries, held until the channel is re-enabled
  // (nothing accepted is lost).
  const rows: Insertable<DeliveryTable>[] = [];
  const emails: Insertable<EmailItemTable>[] = [];
  let wantsState = false;
  for (const t of targets) {
    const p = parsed(t);
    if (!matches(p, ev)) continue;
    // A pipeline's Send email action sends one message per event in seed 004's form, at once;
    // other email channels collect events in windows (seed 000).
    if (t.kind === 'email' && p.config.format !== 'superannotate') {
      // Emails are collected per recipient and sent in windows (seed 000: every 5 minutes),
      // by schedule/email-batches.ts; the window is the one this event falls in.
      const windowStart = Math.floor(ctx.now / ctx.svc.delivery.emailWindowMs) * ctx.svc.delivery.emailWindowMs;
      for (const recipient of p.config.recipients ?? []) {
        emails.push({ org_id: ctx.actor.org_id, recipient, window_start: windowStart, event_id: ev.id, notification_id: t.notification_id, channel_id: t.channel_id, batch_id: null, created_at: ctx.now });
      }
      continue;
    }
    const parts = partsFor(t, p.config, ev);
    if (parts > 0 && t.kind === 'webhook' && DIALECTS_WITH_PROJECT_STATE.has(p.config.dialect!)) wantsState = true;
    for (let part = 0; part < parts; part++) rows.push(newDelivery(ctx, t, { event_id: ev.id, event_type: ev.type, payload: null, part }));
  }
  const state = wantsState && ev.project_id !== null ? await projectState(ctx, ev.project_id) : null;
  const data = state ? { ...ev.data, [PROJECT_STATE_KEY]: state } : ev.data;
  return { deliveries: rows, emails, data };
}

/** The windowed email items of a routed event, once the event itself is written. */
export async function writeEmailItems(ctx: Ctx, emails: Insertable<EmailItemTable>[]): Promise<void> {
  for (let i = 0; i < emails.length; i += 500) await ctx.trx.insertInto('email_items').values(emails.slice(i, i + 500)).execute();
}

/** A delivery due now: for an event, or (event_id null) for a message carried in payload. */
export function newDelivery(
  ctx: { actor: { org_id: number }; now: number },
  target: { notification_id: number; channel_id: number },
  what: { event_id: string | null; event_type: string; payload: string | null; part?: number; dedupe_key?: string | null },
): Insertable<DeliveryTable> {
  return {
    org_id: ctx.actor.org_id,
    notification_id: target.notification_id,
    channel_id: target.channel_id,
    event_id: what.event_id,
    event_type: what.event_type,
    payload: what.payload,
    part: what.part ?? 0,
    dedupe_key: what.dedupe_key ?? null,
    status: 'pending',
    attempt_count: 0,
    retry_index: 0,
    next_attempt_at: ctx.now,
    lease_until: null,
    leased_by: null,
    last_status: null,
    last_error: null,
    created_at: ctx.now,
    updated_at: ctx.now,
    completed_at: null,
  };
}

// The channels each command's wake-up names, by its afterCommit list: one wake-up per
// command however many events it emits.
const signalled = new WeakMap<Ctx['afterCommit'], WorkChannels>();

/**
 * Wake dispatchers (this process's, and others' through NOTIFY) once the transaction commits.
 * `channels`: the channels the new deliveries are for, when known (routing knows them), so
 * that a dispatcher whose channels are all full need not claim for nothing.
 */
export async function signalWork(ctx: Ctx, channels?: readonly number[]): Promise<void> {
  let work = signalled.get(ctx.afterCommit);
  if (!work) {
    const folded = new WorkChannels();
    work = folded;
    signalled.set(ctx.afterCommit, folded);
    ctx.afterCommit.push(() => {
      const named = folded.list();
      ctx.svc.wake(named);
      ctx.store.notifyWork(named);
    });
  }
  work.add(channels);
}
