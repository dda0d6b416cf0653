// What every domain command receives: the open transaction, who acts, and the clock.
// Commands write through ctx.trx only, so their rows and events commit together.
import type { Store, Tx } from '../store/connect.js';

export type Role = 'admin' | 'manager' | 'annotator' | 'reviewer';
export const ROLES: readonly Role[] = ['admin', 'manager', 'annotator', 'reviewer'];

export interface Actor {
  org_id: number;
  user_id: number;
  email: string;
  role: Role;
  api_key_id: number | null;
}

export interface Ctx {
  trx: Tx;
  store: Store;
  actor: Actor;
  now: number;
}

/** Runs a command in its own transaction: all of its rows and events, or nothing. */
export function command<T>(store: Store, actor: Actor, fn: (ctx: Ctx) => Promise<T>): Promise<T> {
  return store.tx((trx) => fn({ trx, store, actor, now: Date.now() }));
}
