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

// An event's `after` is often text its data already holds: a project update's after is its
// data.project, byte for byte (~600 of the row's ~2,100 bytes in the benchmark). Such an
// `after` is stored as where it sits in `data`, `@data:<start>:<end>`, and read back as that
// slice, the same text; JSON never starts with `@`, so the two forms cannot be confused.
// Every row written and every row read by a claimed batch was that much smaller
// (docs/performance.md, round 6). Migration 0011 keeps a process that cannot read the
// reference from starting on such a database.
const IN_DATA = '@data:';
/** Shorter values are stored as they are: the reference would save little or nothing. */
const SMALLEST_REFERENCED = 64;

/** The `after` column for an event's JSON texts: a reference into `data` where it can be. */
export function afterColumn(data: string, after: string | null): string | null {
  if (after === null || after.length < SMALLEST_REFERENCED) return after;
  const at = data.indexOf(after);
  return at < 0 ? after : `${IN_DATA}${at}:${at + after.length}`;
}

/** An event row's `after` as JSON text, wherever it is stored. */
export function afterText(row: Pick<Selectable<EventTable>, 'data' | 'after'>): string | null {
  const stored = row.after;
  if (stored === null || !stored.startsWith(IN_DATA)) return stored;
  const colon = stored.indexOf(':', IN_DATA.length);
  return row.data.slice(Number(stored.slice(IN_DATA.length, colon)), Number(stored.slice(colon + 1)));
}


const BY_ID: RawStatement = {
  sqlite: 'select * from events where id in (select value from json_each(?))',
  postgres: 'select * from events where id = any($1::text[])',
};

export function eventRowsById(db: Db, kind: DatabaseKind, ids: string[]): Promise<Selectable<EventTable>[]> {
  return runRaw<Selectable<EventTable>>(db, kind, BY_ID, [kind === 'postgres' ? ids : JSON.stringify(ids)]);
}

/** What an event's readers need of its row (domain/events.ts eventFromRow). */
export type EventRow = Pick<Selectable<EventTable>, 'id' | 'org_id' | 'project_id' | 'type' | 'occurred_at' | 'actor' | 'data' | 'before' | 'after'>;

/**
 * The events this process committed lately, by id: the deliveries it routes are claimed
 * moments later, most often by this process's own dispatcher (one process serves the API and
 * delivers, and on SQLite owns the file), which read each event back: without that read the
 * headline probe ran 14-23% faster (docs/performance.md, round 6). An event row never
 * changes once written (only its count of deliveries, which is not kept here), so a copy is
 * as good as a read; an event not here is read from the database. Rows are added only after
 * their transaction committed (domain/events.ts, afterCommit).
 *
 * Bounded by count and by size, the oldest going first: an event's data can be large (a task
 * import carries every task it made), and a large row is cheap to read next to its size, so
 * rows above ROW_CHARS are never kept.
 */
export class RecentEvents {
  private readonly byId = new Map<string, { row: EventRow; chars: number }>();
  private chars = 0;
  constructor(
    // A claim follows its command by milliseconds when the dispatcher keeps up (the headline
    // claims ~50 rows at a time); older events are read as before. At 4,096 rows the headline
    // process peaked 24-30 MiB higher than without the cache; at 1,024, 6-16 MiB, and every
    // claimed event of the 20,000 was still here (docs/performance.md, round 6).
    private readonly maxRows = 1_024,
    /** UTF-16 code units of JSON text in all (~2 bytes each in V8 at worst): 4 MiB. */
    private readonly maxChars = 2 * 1024 * 1024,
  ) {}

  static readonly ROW_CHARS = 64 * 1024;

  /**
   * Off until this process delivers (delivery/dispatcher.ts start): a process that only
   * serves the API would keep rows nobody reads (the bench's producer process peaked 58 MiB
   * higher with 4,096 of them).
   */
  private wanted = false;

  /** This process delivers: keep what its commands commit from now on. */
  keep(): void {
    this.wanted = true;
  }

  add(row: EventRow): void {
    if (!this.wanted) return;
    const chars = row.actor.length + row.data.length + (row.before?.length ?? 0) + (row.after?.length ?? 0);
    if (chars > RecentEvents.ROW_CHARS || this.byId.has(row.id)) return;
    while (this.byId.size > 0 && (this.byId.size >= this.maxRows || this.chars + chars > this.maxChars)) {
      const [oldest, entry] = this.byId.entries().next().value!;
      this.byId.delete(oldest);
      this.chars -= entry.chars;
    }
    this.byId.set(row.id, { row, chars });
    this.chars += chars;
  }

  get(id: string): EventRow | undefined {
    return this.byId.get(id)?.row;
  }
}
