// What a command writes to the queue inside its transaction: one delivery per matching
// channel (domain/routing.ts decides which), and the read routing starts from. Every command
// that emits pays these statements and its event's (event-rows.ts), so they are written out
// (raw.ts) rather than built by the query builder each time.
import type { Insertable } from 'kysely';
import type { Db, Tx } from '../db.js';
import type { DatabaseKind } from '../kind.js';
import type { DeliveryTable, EventTable } from '../schema.js';
import { insertRows, runRaw, runText, type RawStatement } from '../raw.js';
import { EVENT_COLUMNS, insertEvent } from './event-rows.js';

/** A channel that may receive an organization's events, with its notification's rules. */
export interface ChannelTarget {
  channel_id: number;
  notification_id: number;
  kind: string;
  scope: string;
  triggers: string;
  config: string;
}

const TARGETS_OF = (p: string) => `select c.id as channel_id, n.id as notification_id, c.kind, n.scope, n.triggers, c.config
  from channels c join notifications n on n.id = c.notification_id
  where c.org_id = ${p} and c.active = 1 and n.active = 1`;
const TARGETS: RawStatement = { sqlite: TARGETS_OF('?'), postgres: TARGETS_OF('$1') };

/** Channels switched on, of notifications switched on (disabled-by-failure ones included). */
export function channelTargets(trx: Tx, kind: DatabaseKind, orgId: number): Promise<ChannelTarget[]> {
  return runRaw<ChannelTarget>(trx, kind, TARGETS, [orgId]);
}

const DELIVERY_COLUMNS = [
  'org_id', 'notification_id', 'channel_id', 'event_id', 'event_type', 'payload', 'part', 'dedupe_key', 'status', 'attempt_count', 'retry_index',
  'next_attempt_at', 'lease_until', 'leased_by', 'last_status', 'last_error', 'created_at', 'updated_at', 'completed_at',
] as const satisfies readonly (keyof DeliveryTable)[];

export function insertDeliveries(q: Db | Tx, kind: DatabaseKind, rows: Insertable<DeliveryTable>[]): Promise<void> {
  return insertRows(q, kind, 'deliveries', DELIVERY_COLUMNS, rows);
}

// PostgreSQL: the event and its first 500 deliveries in one statement (one round trip of the
// eight a routed command made; a command's statements are round trips to a server sharing
// the machine's two cores, docs/performance.md).
const EVENT_WITH_DELIVERIES = `with ev as (insert into events (${EVENT_COLUMNS.join(', ')}) values (${EVENT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}))
  insert into deliveries (${DELIVERY_COLUMNS.join(', ')}) select ${DELIVERY_COLUMNS.join(', ')}
  from json_populate_recordset(null::deliveries, $${EVENT_COLUMNS.length + 1}::json)`;

/** An event and its deliveries, written in the command's transaction. */
export async function writeEvent(trx: Tx, kind: DatabaseKind, event: Omit<Insertable<EventTable>, 'seq'>, deliveries: Insertable<DeliveryTable>[]): Promise<void> {
  let rest = deliveries;
  if (kind === 'postgres' && deliveries.length > 0) {
    const ev = event as Record<string, unknown>;
    await runText(trx, EVENT_WITH_DELIVERIES, [...EVENT_COLUMNS.map((c) => ev[c] ?? null), JSON.stringify(deliveries.slice(0, 500))]);
    rest = deliveries.slice(500);
  } else {
    await insertEvent(trx, kind, event);
  }
  for (let i = 0; i < rest.length; i += 500) await insertDeliveries(trx, kind, rest.slice(i, i + 500));
}
