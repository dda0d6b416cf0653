// Routing's read: an organization's switched-on channels with their notifications' scope and
// triggers, kept per process so that a command does not read them again for every event.
// The cache is only as good as its check: a version per organization (routing_versions,
// changed by triggers in the same transaction as any change to what routing reads, migration
// 0006) is compared with the one the command's transaction sees.
// - SQLite has one writer: the version read inside the command's transaction is the one its
//   commit sees, so a matching version makes the cached routes exact.
// - PostgreSQL: a command uses its cached routes unread; the event's own statement
//   (enqueue.ts writeEvent) compares the version and writes nothing when it moved, and the
//   command routes again from a fresh read. That saves one of a routed command's round trips
//   to the server (docs/performance.md).
import type { Tx } from '../db.js';
import type { DatabaseKind } from '../kind.js';
import { runRaw, type RawStatement } from '../raw.js';

/** A channel that may receive an organization's events, with its notification's rules. */
export interface ChannelTarget {
  channel_id: number;
  notification_id: number;
  kind: string;
  scope: string;
  triggers: string;
  config: string;
}

/** An organization's targets as of one routing version. Shared: never mutate. */
export interface Routes {
  readonly version: number;
  readonly targets: readonly ChannelTarget[];
}

/** Per process (one per Store), bounded; an entry is used only after its version is checked. */
export class RouteCache {
  private readonly byOrg = new Map<number, Routes>();
  constructor(private readonly max = 10_000) {}

  get(orgId: number): Routes | undefined {
    return this.byOrg.get(orgId);
  }

  set(orgId: number, routes: Routes): void {
    if (this.byOrg.size >= this.max && !this.byOrg.has(orgId)) this.byOrg.delete(this.byOrg.keys().next().value!);
    this.byOrg.set(orgId, routes);
  }

  forget(orgId: number): void {
    this.byOrg.delete(orgId);
  }
}

/** An organization's routing version (0 before any route exists), as a scalar subquery; p is its parameter. */
export const VERSION_OF = (p: string) => `coalesce((select version from routing_versions where org_id = ${p}), 0)`;

// The targets and the version in one statement, so both come from one snapshot. The left
// join keeps one row (targets null) when an organization has none.
const ROUTES_OF = (p: string) => `select v.version, t.channel_id, t.notification_id, t.kind, t.scope, t.triggers, t.config
  from (select ${VERSION_OF(p)} as version) v left join (
    select c.id as channel_id, n.id as notification_id, c.kind, n.scope, n.triggers, c.config
    from channels c join notifications n on n.id = c.notification_id
    where c.org_id = ${p} and c.active = 1 and n.active = 1
  ) t on 1 = 1`;
const ROUTES: RawStatement = { sqlite: ROUTES_OF('?'), postgres: ROUTES_OF('$1') };
const VERSION: RawStatement = { sqlite: `select ${VERSION_OF('?')} as version`, postgres: `select ${VERSION_OF('$1')} as version` };

/** Reads an organization's routes (channels switched on, of notifications switched on). */
export async function loadRoutes(trx: Tx, kind: DatabaseKind, orgId: number): Promise<Routes> {
  // SQLite's text has two positional parameters (better-sqlite3 refuses a repeated ?1).
  const rows = await runRaw<ChannelTarget & { version: number }>(trx, kind, ROUTES, kind === 'sqlite' ? [orgId, orgId] : [orgId]);
  const targets = rows.filter((r) => r.channel_id !== null).map(({ version: _v, ...t }) => t);
  return { version: Number(rows[0]?.version ?? 0), targets };
}

/**
 * The routes a command in this transaction should use. SQLite: checked against the version
 * now (one indexed read). PostgreSQL: the cached routes unchecked; the event's statement
 * checks them (writeEvent returns false, and the caller forgets them and asks again).
 */
export async function routesFor(trx: Tx, kind: DatabaseKind, cache: RouteCache, orgId: number): Promise<Routes> {
  const cached = cache.get(orgId);
  if (cached) {
    if (kind === 'postgres') return cached;
    const [row] = await runRaw<{ version: number }>(trx, kind, VERSION, [orgId]);
    if (Number(row?.version ?? 0) === cached.version) return cached;
  }
  const routes = await loadRoutes(trx, kind, orgId);
  cache.set(orgId, routes);
  return routes;
}
