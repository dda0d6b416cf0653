// What every domain command receives: the open transaction, who acts, the clock, and the
// process's services. Commands write through ctx.trx only, so their rows and events commit
// together; work that must wait for the commit (waking the dispatcher) goes in afterCommit.
import type { TargetPolicy } from '../model/addresses.js';
import type { DeliverySettings } from '../model/delivery-settings.js';
import type { MessagingSettings } from '../model/messaging-settings.js';
import type { Store } from '../store/connect.js';
import type { Selectable } from 'kysely';
import type { Tx } from '../store/db.js';
import type { ChannelTable, DeliveryTable } from '../store/schema.js';
import type { Keyring } from '../store/seal.js';

export type Role = 'admin' | 'manager' | 'annotator' | 'reviewer';
export const ROLES: readonly Role[] = ['admin', 'manager', 'annotator', 'reviewer'];

export interface Actor {
  org_id: number;
  user_id: number;
  email: string;
  role: Role;
  api_key_id: number | null;
}

/** Process-wide collaborators, built once at start-up (server.ts) and passed down. */
export interface Services {
  store: Store;
  targets: TargetPolicy;
  delivery: DeliverySettings;
  messaging: MessagingSettings;
  /** Seals secrets on write and opens them on read (store/sealed.ts); loaded once at start. */
  ring: Keyring;
  /**
   * Tells this process's dispatcher that work is due; `channels`, when known, are the
   * channels it is for (delivery/dispatcher.ts wake). Other processes hear of it through
   * the store (notifyWork).
   */
  wake(channels?: readonly number[]): void;
  /**
   * This process's dispatcher, when one runs here and takes deliveries straight from the
   * commands that write them (domain/handoff.ts); absent or null: the claim finds them.
   */
  handoff?: () => Handoff | null;
}

/** A slot a dispatcher holds for a delivery being written: its lease. */
export interface HandoffLease {
  workerId: string;
  leaseUntil: number;
}

/**
 * A dispatcher taking a command's deliveries at its commit instead of claiming them back
 * (delivery/dispatcher.ts implements it; domain/handoff.ts uses it). Every call is
 * synchronous, so that concurrent commands never count the same free slot twice.
 */
export interface Handoff {
  /** The worker the leases are for. */
  readonly workerId: string;
  /**
   * Whether it may take a delivery for the channel now (its database, its budget, not
   * stopping, and the channel not known to be full or to have deliveries waiting); false
   * spares the command the store's read (store/queue/handoff.ts).
   */
  open(channelId: number): boolean;
  /**
   * A slot on the channel if fewer than `room` of its requests are there (null: the store
   * said the claim must decide); null: the delivery stays pending, and the channel is taken
   * to have deliveries waiting until a claim finds otherwise.
   */
  reserve(channelId: number, room: number | null): HandoffLease | null;
  /** The command did not commit, or committed without the delivery: the slot is free again. */
  cancel(channelId: number): void;
  /**
   * Committed, leased to it (status `sending`): send them. `channels`: their channels' rows
   * as their command's transaction read them, for sending without reading them again.
   */
  accept(rows: Selectable<DeliveryTable>[], channels: Selectable<ChannelTable>[]): void;
}

export interface Ctx {
  trx: Tx;
  store: Store;
  svc: Services;
  actor: Actor;
  now: number;
  afterCommit: (() => void)[];
  /** Work undone if the transaction does not commit (a reserved slot given back). */
  afterRollback: (() => void)[];
}

// PostgreSQL aborts one of two transactions that wait on each other's row locks
// (deadlock_detected) or that cannot be serialized (serialization_failure); the aborted one
// wrote nothing. A user's command met one when it deleted a notification while a worker
// claimed or recorded the same channel's deliveries (their locks are taken in the opposite
// order): it is run again, from the start, rather than answered 500.
const RETRIED_SQLSTATES = new Set(['40P01', '40001']);
const COMMAND_TRIES = 3;

/** Runs a command in its own transaction: all of its rows and events, or nothing. */
export async function command<T>(svc: Services, actor: Actor, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    // Fresh for each attempt: an aborted attempt's after-commit work never runs.
    const afterCommit: (() => void)[] = [];
    const afterRollback: (() => void)[] = [];
    let result: T;
    try {
      result = await svc.store.tx((trx) => fn({ trx, store: svc.store, svc, actor, now: Date.now(), afterCommit, afterRollback }));
    } catch (err) {
      runAll(afterRollback);
      const code = (err as { code?: unknown } | null)?.code;
      if (svc.store.kind === 'postgres' && attempt < COMMAND_TRIES && typeof code === 'string' && RETRIED_SQLSTATES.has(code)) continue;
      throw err;
    }
    runAll(afterCommit);
    return result;
  }
}

/**
 * Runs every callback even if one throws, then throws the first error: a callback skipped
 * would leave its work undone for good (a slot the handoff reserved, never given back).
 */
function runAll(callbacks: (() => void)[]): void {
  let first: { err: unknown } | null = null;
  for (const f of callbacks) {
    try {
      f();
    } catch (err) {
      first ??= { err };
    }
  }
  if (first) throw first.err;
}
