// Event rows on the per-event path: written once by the command that emits the event
// (domain/events.ts), read back by id when its deliveries are prepared (delivery/prepare.ts).
// Written out (raw.ts): every command and every claimed batch pays them.
import type { Insertable, Selectable } from 'kysely';
import type { Db, Tx } from '../db.js';
import type { DatabaseKind } from '../kind.js';
import type { EventTable } from '../schema.js';
import { insertRows, runRaw, type RawStatement } from '../raw.js';

export const EVENT_COLUMNS = ['id', 'org_id', 'project_id', 'type', 'occurred_at', 'actor', 'data', 'before', 'after', 'deliveries_left'] as const satisfies readonly (keyof EventTable)[];

export function insertEvent(trx: Tx, kind: DatabaseKind, row: Omit<Insertable<EventTable>, 'seq'>): Promise<void> {
  return insertRows(trx, kind, 'events', EVENT_COLUMNS, [row]);
}


const BY_ID: RawStatement = {
  sqlite: 'select * from events where id in (select value from json_each(?))',
  postgres: 'select * from events where id = any($1::text[])',
};

export function eventRowsById(db: Db, kind: DatabaseKind, ids: string[]): Promise<Selectable<EventTable>[]> {
  return runRaw<Selectable<EventTable>>(db, kind, BY_ID, [kind === 'postgres' ? ids : JSON.stringify(ids)]);
}
