// What a command writes to the queue inside its transaction: its event and one delivery per
// matching channel (domain/routing.ts decides which, from routes.ts). Every command
// that emits pays these statements and its event's (event-rows.ts), so they are written out
// (raw.ts) rather than built by the query builder each time.
import type { Insertable, OnConflictBuilder, OnConflictDoNothingBuilder, Selectable } from 'kysely';
import type { Db, Tx } from '../db.js';
import type { DatabaseKind } from '../kind.js';
import type { Database, DeliveryTable, EventTable } from '../schema.js';
import { insertRows, runText } from '../raw.js';
import { afterColumn, EVENT_COLUMNS, insertEvent, type EventRow } from './event-rows.js';
import { VERSION_OF } from './routes.js';

const DELIVERY_COLUMNS = [
  'org_id', 'notification_id', 'channel_id', 'event_id', 'event_type', 'payload', 'part', 'dedupe_key', 'status', 'attempt_count', 'retry_index',
  'next_attempt_at', 'lease_until', 'leased_by', 'last_status', 'last_error', 'created_at', 'updated_at', 'completed_at',
] as const satisfies readonly (keyof DeliveryTable)[];

/**
 * ON CONFLICT for a delivery carrying a dedupe key (an email window, a digest, a deduplicated
 * pipeline fire): a second insert of the same key is skipped. deliveries_dedupe is a partial
 * index (migration 0006), so the clause must name its predicate to match it.
 */
export function skipDuplicateKey(oc: OnConflictBuilder<Database, 'deliveries'>): OnConflictDoNothingBuilder<Database, 'deliveries'> {
  return oc.column('dedupe_key').where('dedupe_key', 'is not', null).doNothing();
}

export function insertDeliveries(q: Db | Tx, kind: DatabaseKind, rows: Insertable<DeliveryTable>[]): Promise<void> {
  return insertRows(q, kind, 'deliveries', DELIVERY_COLUMNS, rows);
}

// A delivery handed to this process's dispatcher (domain/handoff.ts, SQLite only) is written
// `sending`, and the dispatcher needs its id: the insert returns it.
const INSERT_LEASED_SQLITE = `insert into deliveries (${DELIVERY_COLUMNS.join(', ')}) values (${DELIVERY_COLUMNS.map(() => '?').join(', ')}) returning id`;

async function insertLeased(trx: Tx, d: Insertable<DeliveryTable>): Promise<Selectable<DeliveryTable>> {
  const values = DELIVERY_COLUMNS.map((c) => d[c] ?? null);
  const [row] = await runText<{ id: number }>(trx, INSERT_LEASED_SQLITE, values);
  return { id: Number(row!.id), ...Object.fromEntries(DELIVERY_COLUMNS.map((c, i) => [c, values[i]])) } as Selectable<DeliveryTable>;
}

/** What writeEvent wrote: the event's row, and the deliveries it wrote leased (`sending`). */
export interface Written {
  event: EventRow;
  leased: Selectable<DeliveryTable>[];
}

// PostgreSQL: the routing version check, the event and its first 500 deliveries in one
// statement (a command's statements are round trips to a server sharing the machine's two
// cores, docs/performance.md). The rows are written only if the organization's routing
// version is still the one the deliveries were routed with (routes.ts); the statement
// returns the version it saw either way.
const CHECKED_EVENT = `with v as (select ${VERSION_OF('$3')} as version),
  ev as (insert into events (${EVENT_COLUMNS.join(', ')}) select ${EVENT_COLUMNS.join(', ')}
    from json_populate_record(null::events, $1::json) where (select version from v) = $4),
  d as (insert into deliveries (${DELIVERY_COLUMNS.join(', ')}) select ${DELIVERY_COLUMNS.join(', ')}
    from json_populate_recordset(null::deliveries, $2::json) where (select version from v) = $4)
  select version from v`;

/**
 * An event and its deliveries, written in the command's transaction, if they were routed
 * with the organization's current routes (routingVersion: the version of the routes used).
 * Returns the event's row as written, with the deliveries written leased (status `sending`,
 * handed to this process's dispatcher by the caller, SQLite only); null: nothing was
 * written; route again from fresh routes. SQLite's caller checked the version in this
 * transaction already (routes.ts), so there it always writes.
 *
 * This is the only place deliveries of an event are written: the event row counts them
 * (deliveries_left), and retention removes an old event once it has deleted them all. No
 * index by event is kept on deliveries for that question: its entry, a 36-character id per
 * delivery, cost 3-8% of the SQLite throughput (docs/performance.md, round 5). A delivery
 * written for an event anywhere else must add to its event's count.
 */
export async function writeEvent(
  trx: Tx,
  kind: DatabaseKind,
  event: Omit<Insertable<EventTable>, 'seq'>,
  deliveries: Insertable<DeliveryTable>[],
  routingVersion: number,
): Promise<Written | null> {
  const row = { ...event, after: afterColumn(event.data, event.after ?? null), deliveries_left: deliveries.length };
  let rest = deliveries;
  const leased: Selectable<DeliveryTable>[] = [];
  if (kind === 'postgres') {
    const [seen] = await runText<{ version: number }>(trx, CHECKED_EVENT, [JSON.stringify(row), JSON.stringify(deliveries.slice(0, 500)), row.org_id, routingVersion]);
    if (Number(seen?.version) !== routingVersion) return null;
    rest = deliveries.slice(500);
  } else {
    await insertEvent(trx, kind, row);
    if (deliveries.some((d) => d.status === 'sending')) {
      rest = [];
      for (const d of deliveries) {
        if (d.status === 'sending') leased.push(await insertLeased(trx, d));
        else rest.push(d);
      }
    }
  }
  for (let i = 0; i < rest.length; i += 500) await insertDeliveries(trx, kind, rest.slice(i, i + 500));
  // What the event's readers use (without the count, which retention changes later), with
  // the nulls the database would give back.
  return {
    event: {
      id: row.id, org_id: row.org_id, project_id: row.project_id ?? null, type: row.type, occurred_at: row.occurred_at,
      actor: row.actor, data: row.data, before: row.before ?? null, after: row.after,
    },
    leased,
  };
}
