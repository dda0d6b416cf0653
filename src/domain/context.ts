// What every domain command receives: the open transaction, who acts, the clock, and the
// process's services. Commands write through ctx.trx only, so their rows and events commit
// together; work that must wait for the commit (waking the dispatcher) goes in afterCommit.
import type { TargetPolicy } from '../model/addresses.js';
import type { DeliverySettings } from '../model/delivery-settings.js';
import type { MessagingSettings } from '../model/messaging-settings.js';
import type { Store } from '../store/connect.js';
import type { Tx } from '../store/db.js';
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
}

export interface Ctx {
  trx: Tx;
  store: Store;
  svc: Services;
  actor: Actor;
  now: number;
  afterCommit: (() => void)[];
}

/** Runs a command in its own transaction: all of its rows and events, or nothing. */
export async function command<T>(svc: Services, actor: Actor, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  const afterCommit: (() => void)[] = [];
  const result = await svc.store.tx((trx) => fn({ trx, store: svc.store, svc, actor, now: Date.now(), afterCommit }));
  for (const f of afterCommit) f();
  return result;
}
