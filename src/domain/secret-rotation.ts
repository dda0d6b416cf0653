// Rotating a webhook channel's signing secret (POST /v1/channels/{id}/rotate-secret): the new
// secret is returned once, and the old one keeps signing beside it for 24 hours so receivers
// can switch without losing a message. Generating and checking secrets: model/webhook-secrets.ts.
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { seal } from '../store/seal.js';
import { generateSecret } from '../model/webhook-secrets.js';
import { loadChannel } from './notification-rows.js';
import { channelView, type ChannelView, type WithSecret } from './notification-views.js';

export const SECRET_OVERLAP_MS = 24 * 3600 * 1000;

/** A new secret; the old one keeps signing alongside it for 24 hours. */
export async function rotateSecret(ctx: Ctx, id: number): Promise<WithSecret<ChannelView>> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  const c = await loadChannel(ctx.trx, ctx.actor.org_id, id);
  const secret = generateSecret();
  const row = await ctx.trx
    .updateTable('channels')
    .set({
      secret: seal(ctx.svc.ring, secret),
      // Still sealed (under whichever key sealed it): moved as it is, never opened.
      previous_secret: c.secret,
      previous_secret_until: c.secret ? ctx.now + SECRET_OVERLAP_MS : null,
      updated_at: ctx.now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...channelView(row, ctx.svc.ring), secret };
}
