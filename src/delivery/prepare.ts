// The prepare stage: everything a claimed batch needs to be rendered and sent, loaded with
// one query per table per batch (channels, events, projects, users; the deliveries come
// from the claim itself), and each channel's secrets opened once per claim rather than per
// delivery.
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { RenderContext } from '../dialects/index.js';
import type { Services } from '../domain/context.js';
import { eventFromRow } from '../domain/events.js';
import { getProject } from '../domain/project-reads.js';
import type { WebhookConfig, SlackConfig } from '../model/channel-config.js';
import type { CanonicalEvent } from '../model/event.js';
import type { Db } from '../store/db.js';
import type { DatabaseKind } from '../store/kind.js';
import { channelRowsById } from '../store/queue/channel-rows.js';
import { eventRowsById } from '../store/queue/event-rows.js';
import type { ChannelTable, DeliveryTable } from '../store/schema.js';
import { openOrPlain, type Keyring } from '../store/seal.js';
import { openConfig } from '../store/sealed.js';
import type { Job, OpenedChannel } from './job.js';

export interface Prepared {
  jobs: Omit<Job, 'signal'>[];
  /** Deliveries that can never be sent: their channel or event is gone. */
  unsendable: { id: number; transition: 'fail' | 'cancel'; reason: string }[];
}

export function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

const MAX_KEPT_CHARS = 16 * 1024;

/**
 * Channels' secrets and configs as opened, kept while their sealed text is unchanged (a
 * rotated secret or an edited config is new text, opened anew). Opening costs ~3.4 µs a
 * value (below), per prepared batch: a handed-off delivery is often a batch of its own
 * (at 1,000 events/s, one command a group), where opening its channel was 2% of the
 * process's CPU (docs/performance.md, round 7). One per dispatcher; bounded.
 */
export class OpenedChannels {
  private readonly byId = new Map<number, { secret: string | null; previous: string | null; config: string; opened: OpenedChannel | Error }>();
  constructor(private readonly max = 4_096) {}

  get(ring: Keyring, c: Selectable<ChannelTable>): OpenedChannel | Error {
    const hit = this.byId.get(c.id);
    if (hit && hit.secret === c.secret && hit.previous === c.previous_secret && hit.config === c.config) return hit.opened;
    const opened = openChannel(ring, c);
    // An error (a key missing from the ring) is not kept: each attempt reports its own.
    if (opened instanceof Error) return opened;
    // A large config (a custom action's code, up to a megabyte) is opened each time: the
    // bound is by count, so each kept entry must be small.
    if (c.config.length + (c.secret?.length ?? 0) + (c.previous_secret?.length ?? 0) > MAX_KEPT_CHARS) return opened;
    if (this.byId.size >= this.max && !hit) this.byId.delete(this.byId.keys().next().value!);
    this.byId.set(c.id, { secret: c.secret, previous: c.previous_secret, config: c.config, opened });
    return opened;
  }
}

export interface PrepareOptions {
  /** Opened channels kept across batches (the dispatcher's). */
  opened?: OpenedChannels;
  /** Channel rows already read (a handoff's, read in its command's transaction): not read again. */
  channels?: ReadonlyMap<number, Selectable<ChannelTable>>;
}

/** deliveries: leased to this worker (`sending`), by a claim or a handoff. */
export async function prepare(svc: Services, deliveries: Selectable<DeliveryTable>[], o: PrepareOptions = {}): Promise<Prepared> {
  const db = svc.store.db;
  const channels = new Map<number, Selectable<ChannelTable>>();
  const unknown: number[] = [];
  for (const id of new Set(deliveries.map((d) => d.channel_id))) {
    const known = o.channels?.get(id);
    if (known) channels.set(id, known);
    else unknown.push(id);
  }
  if (unknown.length > 0) for (const c of await channelRowsById(db, svc.store.kind, unknown)) channels.set(c.id, c);
  const eventIds = [...new Set(deliveries.map((d) => d.event_id).filter((e): e is string => e !== null))];
  const events = new Map<string, CanonicalEvent>();
  // Events this process committed are at hand (store/queue/event-rows.ts RecentEvents); the
  // others are read, one statement per 500.
  const unread: string[] = [];
  for (const id of eventIds) {
    const row = svc.store.recentEvents.get(id);
    if (row) events.set(id, eventFromRow(row));
    else unread.push(id);
  }
  for (const part of chunks(unread, 500)) {
    for (const row of await eventRowsById(db, svc.store.kind, part)) events.set(row.id, eventFromRow(row));
  }
  const context = await loadContext(db, svc.store.kind, deliveries, channels, events);
  // Opening costs about 3.4 µs a value (200,000 opens of a whsec_ secret, measured on the
  // loaded 2-core test machine); done once per channel per batch at most, not per delivery.
  const open = new Map([...channels.values()].map((c) => [c.id, o.opened ? o.opened.get(svc.ring, c) : openChannel(svc.ring, c)]));
  const out: Prepared = { jobs: [], unsendable: [] };
  for (const delivery of deliveries) {
    const channel = channels.get(delivery.channel_id);
    const event = delivery.event_id ? events.get(delivery.event_id) : syntheticEvent(delivery);
    if (!channel) out.unsendable.push({ id: delivery.id, transition: 'cancel', reason: 'its channel no longer exists' });
    else if (!event) out.unsendable.push({ id: delivery.id, transition: 'fail', reason: 'its event no longer exists' });
    else out.jobs.push({ delivery, channel, opened: open.get(channel.id)!, event, context });
  }
  return out;
}

function openChannel(ring: Keyring, c: Selectable<ChannelTable>): OpenedChannel | Error {
  try {
    return {
      secrets: [c.secret === null ? null : openOrPlain(ring, c.secret), c.previous_secret === null ? null : openOrPlain(ring, c.previous_secret)],
      config: c.kind === 'webhook' || c.kind === 'slack' ? openConfig<WebhookConfig | SlackConfig>(ring, c.kind, c.config) : (JSON.parse(c.config) as WebhookConfig),
    };
  } catch (err) {
    // A key missing from the ring: the attempt fails with the reason, and is retried.
    return err as Error;
  }
}

/**
 * What the vendor dialects need beyond the event: Label Studio and Encord bodies carry the
 * project (with Label Studio's counters as they are now), SuperAnnotate items name users
 * by email. Loaded once per claim, only for the channels whose dialect needs them.
 */
async function loadContext(
  db: Db,
  kind: DatabaseKind,
  deliveries: Selectable<DeliveryTable>[],
  channels: Map<number, Selectable<ChannelTable>>,
  events: Map<string, CanonicalEvent>,
): Promise<RenderContext> {
  const context: RenderContext = { projects: new Map(), users: new Map() };
  const projectIds = new Set<number>();
  const orgOf = new Map<number, number>();
  let wantUsers = false;
  // Once per channel, not per delivery: a batch is mostly a few channels' deliveries.
  const dialectOf = new Map([...channels.values()].map((c) => [c.id, (JSON.parse(c.config) as WebhookConfig).dialect]));
  for (const d of deliveries) {
    const c = channels.get(d.channel_id);
    const ev = d.event_id ? events.get(d.event_id) : undefined;
    if (!c || !ev) continue;
    const name = dialectOf.get(c.id);
    if ((c.kind !== 'webhook' || name === 'label-studio' || name === 'encord') && ev.project_id !== null) {
      projectIds.add(ev.project_id);
      orgOf.set(ev.project_id, ev.org_id);
    }
    if (name === 'superannotate' || c.kind === 'action') wantUsers = true;
  }
  for (const id of projectIds) {
    try {
      context.projects.set(id, await getProject(db, kind, orgOf.get(id)!, id));
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
