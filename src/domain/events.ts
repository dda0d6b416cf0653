// The canonical event (DESIGN.md "Canonical event") and the outbox writer. A command calls
// emit() inside its transaction; the event row commits with the state it describes, so an
// event exists if and only if its change does.
import type { Ctx } from './context.js';
import { lazyEvent, type CanonicalEvent, type EventActor, type EventType } from '../model/event.js';
import { uuidv7 } from '../model/ids.js';
import type { EventTable } from '../store/schema.js';
import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import { writeEvent } from '../store/queue/enqueue.js';
import { lend } from './handoff.js';
import { AppError, notFound } from '../model/errors.js';
import { PROJECT_STATE_KEY, routeEvent, signalWork, writeEmailItems } from './routing.js';
import { routesFor } from '../store/queue/routes.js';
import { afterText, type EventRow } from '../store/queue/event-rows.js';
import { decodeCursor, pageLimit, toPage, type Page } from './paging.js';


export interface EmitInput {
  type: EventType;
  project_id: number | null;
  data: Record<string, unknown>;
  before?: unknown;
  after?: unknown;
}

/** How often a command routes again when the routes change under it (each time, a fresh read). */
const ROUTING_TRIES = 5;

export async function emit(ctx: Ctx, input: EmitInput): Promise<string> {
  const id = uuidv7(ctx.now);
  const actor: EventActor = {
    user_id: ctx.actor.user_id,
    email: ctx.actor.email,
    api_key_id: ctx.actor.api_key_id,
  };
  const orgId = ctx.actor.org_id;
  const routes = ctx.store.routes;
  for (let attempt = 1; ; attempt++) {
    // Routed first: routing may add to the data what its channels need from this moment (the
    // project's counters, domain/routing.ts); the event row and its deliveries are written
    // together (one statement on PostgreSQL, which also checks the routes were current) and
    // commit together.
    const { version, targets } = await routesFor(ctx.trx, ctx.store.kind, routes, orgId);
    const routed = await routeEvent(ctx, { id, type: input.type, project_id: input.project_id, data: input.data, before: input.before }, targets);
    // Those this process's dispatcher can send at once are written leased to it (handoff.ts).
    const loan = await lend(ctx, routed.deliveries);
    const written = await writeEvent(ctx.trx, ctx.store.kind, {
      id,
      org_id: orgId,
      project_id: input.project_id,
      type: input.type,
      occurred_at: ctx.now,
      actor: JSON.stringify(actor),
      data: JSON.stringify(routed.data),
      before: input.before === undefined ? null : JSON.stringify(input.before),
      after: input.after === undefined ? null : JSON.stringify(input.after),
    }, routed.deliveries, version);
    if (written) {
      loan?.written(written.leased);
      await writeEmailItems(ctx, routed.emails);
      if (routed.deliveries.length > 0) {
        // Its deliveries are claimed moments from now, most often by this process (event-rows.ts).
        const store = ctx.store;
        ctx.afterCommit.push(() => store.recentEvents.add(written.event));
        // The rest wait for a claim.
        if (written.leased.length < routed.deliveries.length) await signalWork(ctx, [...new Set(routed.deliveries.filter((d) => d.status !== 'sending').map((d) => d.channel_id))]);
      }
      return id;
    }
    // A notification or channel of this organization changed since these routes were read.
    routes.forget(orgId);
    if (attempt >= ROUTING_TRIES) throw new AppError('service_unavailable', 'The notifications of this organization kept changing while the event was routed; nothing was written. Retry the request.');
  }
}

export function eventFromRow(row: EventRow): CanonicalEvent {
  return lazyEvent(
    { id: row.id, type: row.type as EventType, occurred_at: new Date(row.occurred_at).toISOString(), org_id: row.org_id, project_id: row.project_id },
    { actor: row.actor, data: row.data, before: row.before, after: afterText(row) },
  );
}

export interface EventQuery {
  cursor?: string | undefined;
  limit?: number | undefined;
  type?: EventType[] | undefined;
  project_id?: number | undefined;
}

/** Events in commit-sequence order, after the cursor (exclusive). */
export async function listEvents(db: Db, orgId: number, q: EventQuery): Promise<Page<CanonicalEvent>> {
  const limit = pageLimit(q);
  let query = db.selectFrom('events').selectAll().where('org_id', '=', orgId).where('seq', '>', decodeCursor(q.cursor));
  if (q.type && q.type.length > 0) query = query.where('type', 'in', q.type);
  if (q.project_id !== undefined) query = query.where('project_id', '=', q.project_id);
  const rows = await query.orderBy('seq').limit(limit + 1).execute();
  return toPage(rows, limit, publicEvent, (r) => r.seq);
}

/** An event as the API shows it: the project state kept for vendor bodies stays internal. */
function publicEvent(row: Selectable<EventTable>): CanonicalEvent {
  const ev = eventFromRow(row);
  const { [PROJECT_STATE_KEY]: _state, ...data } = ev.data;
  return { ...ev, data };
}

export async function getEvent(db: Db, orgId: number, id: string): Promise<CanonicalEvent> {
  const row = await db.selectFrom('events').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('event', id);
  return publicEvent(row);
}
