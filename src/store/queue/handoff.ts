// The handoff's read (domain/handoff.ts): whether a delivery a command is writing may be
// written already leased to this process's dispatcher, skipping the claim. It asks, inside
// the command's transaction, every question the claim (claim.ts) would ask of the channel,
// so that a handed-off delivery breaks none of its rules:
// - switched on and not disabled by failures, not held back by a Retry-After (not_before);
// - not paced (min_interval_ms = 0): a paced channel's spacing is the claim's to keep;
// - no due pending row of the channel waiting: older rows go first, and a new one must not
//   overtake them;
// - its room: the cap less the requests other workers hold (this worker's own are counted
//   by the dispatcher, as the claim's ownInFlight).
// SQLite only: the dispatcher hands off only there (one process owns the file).
import type { Selectable } from 'kysely';
import type { Tx } from '../db.js';
import type { ChannelTable } from '../schema.js';
import { runText } from '../raw.js';

// The count of other workers' leases reads deliveries_sending (channel_id, leased_by, ...)
// in two ranges around this worker's id, so this worker's own requests are not walked.
const ROOM_SQLITE = `select c.*, c.max_in_flight - (select count(*) from deliveries s
    where s.channel_id = c.id and s.status = 'sending' and (s.leased_by < ? or s.leased_by > ? or s.leased_by is null)) as room
  from channels c
  where c.id = ? and c.active = 1 and c.disabled_at is null and c.min_interval_ms = 0
    and (c.not_before is null or c.not_before <= ?)
    and not exists (select 1 from deliveries d
                    where d.channel_id = c.id and d.status = 'pending' and d.next_attempt_at <= ?)`;

/** A channel that may take a handed-off delivery: its row, and its room. */
export interface HandoffChannel {
  /** How many requests this worker may have at the channel now. */
  room: number;
  /** The channel's row as this transaction sees it, for the dispatcher to send with (its prepare stage need not read it again). */
  channel: Selectable<ChannelTable>;
}

/**
 * The channel, if a new delivery for it may be handed to this worker at all; null when the
 * claim must decide (see the top of this file).
 */
export async function handoffChannel(trx: Tx, channelId: number, workerId: string, now: number): Promise<HandoffChannel | null> {
  const [row] = await runText<Selectable<ChannelTable> & { room: number }>(trx, ROOM_SQLITE, [workerId, workerId, channelId, now, now]);
  if (!row) return null;
  const { room, ...channel } = row;
  return { room: Number(room), channel };
}
