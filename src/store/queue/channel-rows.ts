// Channel rows on the per-batch delivery path: the prepare stage reads the channels of every
// claimed batch (delivery/prepare.ts). Written out (raw.ts), so PostgreSQL runs it as a named
// statement and SQLite prepares it once, whatever the number of channels.
import type { Selectable } from 'kysely';
import type { Db, Tx } from '../db.js';
import type { DatabaseKind } from '../kind.js';
import type { ChannelTable } from '../schema.js';
import { runRaw, type RawStatement } from '../raw.js';

const BY_ID: RawStatement = {
  sqlite: 'select * from channels where id in (select value from json_each(?))',
  postgres: 'select * from channels where id = any($1::bigint[])',
};

export function channelRowsById(db: Db | Tx, kind: DatabaseKind, ids: number[]): Promise<Selectable<ChannelTable>[]> {
  return runRaw<Selectable<ChannelTable>>(db, kind, BY_ID, [kind === 'postgres' ? ids : JSON.stringify(ids)]);
}
