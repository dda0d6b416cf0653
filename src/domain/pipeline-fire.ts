// Firing a pipeline whose trigger is not an event (issue 13): an incoming webhook
// (POST /v1/hooks/{id}), a manual run (POST /v1/pipelines/{id}/run) or a periodic run
// (schedule/periodic.ts). The firing writes its deliveries directly, one per active action,
// with the synthetic event in their payload: it is meant for this pipeline alone, never
// routed to other notifications.
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Tx } from '../store/db.js';
import type { NotificationTable } from '../store/schema.js';
import { newDelivery, signalWork } from './routing.js';
import { skipDuplicateKey } from '../store/queue/enqueue.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError } from '../model/errors.js';
import type { CanonicalEvent, EventActor } from '../model/event.js';
import { uuidv7 } from '../model/ids.js';
import type { FiredKind } from '../model/triggers.js';
import { hashToken } from './pipelines.js';
import { loadPipeline } from './pipeline-views.js';

/** The largest incoming-webhook or manual-run body: it is stored with every run. */
export const MAX_CONTEXT_BYTES = 256 * 1024;
export const HOOK_TOKEN_HEADER = 'x-hook-token';

export interface Fired {
  event_id: string;
  deliveries: number[];
}

/**
 * One firing of a pipeline: a synthetic event (kept in each delivery's payload, like a test
 * ping or a digest) for each of its active actions. `dedupe` (periodic windows) makes a
 * second firing of the same window write nothing, in any process.
 */
export async function firePipeline(
  trx: Tx,
  n: Pick<Selectable<NotificationTable>, 'id' | 'org_id' | 'title' | 'scope'>,
  kind: FiredKind,
  context: unknown,
  o: { now: number; actor: EventActor; dedupe?: string },
): Promise<Fired> {
  const scope = JSON.parse(n.scope) as 'all' | number[];
  const id = uuidv7(o.now);
  const event: CanonicalEvent = {
    id,
    type: `pipeline.${kind}`,
    occurred_at: new Date(o.now).toISOString(),
    org_id: n.org_id,
    project_id: scope === 'all' ? null : scope[0]!,
    actor: o.actor,
    data: { pipeline: { id: n.id, name: n.title }, context },
  };
  const payload = JSON.stringify(event);
  const channels = await trx.selectFrom('channels').select(['id', 'kind']).where('notification_id', '=', n.id).where('active', '=', 1).orderBy('id').execute();
  const deliveries: number[] = [];
  for (const c of channels) {
    const row = newDelivery({ actor: { org_id: n.org_id }, now: o.now }, { notification_id: n.id, channel_id: c.id }, { event_id: null, event_type: event.type, payload, dedupe_key: o.dedupe ? `${o.dedupe}:${c.id}` : null });
    const q = trx.insertInto('deliveries').values(row);
    const inserted = await (o.dedupe ? q.onConflict(skipDuplicateKey) : q).returning('id').executeTakeFirst();
    if (inserted) deliveries.push(Number(inserted.id));
  }
  return { event_id: id, deliveries };
}

/** POST /v1/pipelines/{id}/run: fire now with a custom body as the context. */
export async function runPipeline(ctx: Ctx, id: number, body: unknown): Promise<Fired> {
  requireRole(ctx.actor, CAN.manageNotifications, 'run pipelines');
  const n = await loadPipeline(ctx.trx, ctx.actor.org_id, id);
  if (n.active !== 1) throw new AppError('invalid_state', `Pipeline ${id} is not active; set is_active to true first.`);
  const fired = await firePipeline(ctx.trx, n, 'manual', body ?? {}, { now: ctx.now, actor: { user_id: ctx.actor.user_id, email: ctx.actor.email, api_key_id: ctx.actor.api_key_id } });
  if (fired.deliveries.length > 0) await signalWork(ctx);
  return fired;
}

/**
 * POST /v1/hooks/{id}: the token decides, not an API key. A wrong, missing or foreign token
 * and an unknown pipeline look the same (401), so the URL reveals nothing.
 */
export async function receiveHook(trx: Tx, id: number, token: string | undefined, body: unknown, now: number): Promise<Fired> {
  const hook = await trx.selectFrom('pipeline_hooks').selectAll().where('notification_id', '=', id).executeTakeFirst();
  const given = Buffer.from(hashToken(token ?? ''), 'hex');
  const ok = hook !== undefined && token !== undefined && crypto.timingSafeEqual(given, Buffer.from(hook.token_hash, 'hex'));
  if (!ok) throw new AppError('hook_unauthorized', `Send the token created with this pipeline's incoming webhook in the X-Hook-Token header; it was missing or does not match.`);
  const n = await trx.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  if (n.active !== 1) throw new AppError('invalid_state', `Pipeline ${id} is not active; its incoming webhook accepts nothing until it is.`);
  return firePipeline(trx, n, 'incoming_webhook', body, { now, actor: { user_id: 0, email: 'incoming webhook', api_key_id: null } });
}

