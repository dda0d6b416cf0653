// /v1/outbox (emails kept locally when no SMTP is set), /v1/notifications/:id/digest (a
// digest preview computed now), and /v1/slack (connecting workspaces).
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { computeDigest } from '../../domain/digest-stats.js';
import { AppError, notFound } from '../../model/errors.js';
import { decodeCursor, pageLimit, toPage } from '../../domain/paging.js';
import { disconnect, installUrl, listChannels, refreshAll } from '../../domain/slack-install.js';
import { digestTrigger } from '../../schedule/digests.js';
import { lastFire } from '../../model/cron.js';
import { Id, IdParams, PageQuery, Timestamp, pageOf } from '../schemas.js';

const OutboxMessage = Type.Object({
  id: Id,
  delivery: Id,
  recipients: Type.Array(Type.String()),
  subject: Type.String(),
  text: Type.String(),
  html: Type.String(),
  created_at: Timestamp,
});
const AnyJson = Type.Unknown();
const Digest = Type.Object({
  notification: Id,
  window: Type.Object({ start: Timestamp, end: Timestamp }),
  projects_stats: Type.Array(AnyJson, { description: 'ProjectStats of seed 000: project_hash, annotator_stats[], reviewer_stats[]' }),
});

export async function messagingRoutes(app: Api, { svc }: { svc: Services }) {
  const db = svc.store.db;
  const view = (r: { id: number; delivery_id: number; recipients: string; subject: string; text: string; html: string; created_at: number }) => ({
    id: r.id,
    delivery: r.delivery_id,
    recipients: JSON.parse(r.recipients) as string[],
    subject: r.subject,
    text: r.text,
    html: r.html,
    created_at: new Date(r.created_at).toISOString(),
  });
  app.get('/outbox', {
    schema: { operationId: 'listOutbox', tags: ['email'], summary: 'Emails kept in the local outbox (when no SMTP_URL is set), oldest first', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: pageOf(OutboxMessage), ...errorResponses } },
  }, async (req) => {
    const limit = pageLimit(req.query);
    const rows = await db.selectFrom('outbox').selectAll().where('org_id', '=', req.actor.org_id).where('id', '>', decodeCursor(req.query.cursor)).orderBy('id').limit(limit + 1).execute();
    return toPage(rows, limit, view);
  });
  app.get('/outbox/:id', {
    schema: { operationId: 'getOutboxMessage', tags: ['email'], summary: 'One email of the outbox', params: IdParams, response: { 200: OutboxMessage, ...errorResponses } },
  }, async (req) => {
    const r = await db.selectFrom('outbox').selectAll().where('org_id', '=', req.actor.org_id).where('id', '=', req.params.id).executeTakeFirst();
    if (!r) throw notFound('email', req.params.id);
    return view(r);
  });

  app.get('/notifications/:id/digest', {
    schema: {
      operationId: 'previewDigest',
      tags: ['notifications'],
      summary: "Preview a notification's digest for any window, computed now (default: its last scheduled window, or the last 24 hours)",
      params: IdParams,
      querystring: Type.Object({ start: Type.Optional(Timestamp), end: Type.Optional(Timestamp) }, { additionalProperties: false }),
      response: { 200: Digest, ...errorResponses },
    },
  }, async (req) => {
    const n = await db.selectFrom('notifications').selectAll().where('org_id', '=', req.actor.org_id).where('id', '=', req.params.id).executeTakeFirst();
    if (!n) throw notFound('notification', req.params.id);
    const d = digestTrigger(n);
    const hours = d?.window_hours ?? 24;
    const end = req.query.end ? Date.parse(req.query.end) : (d ? (lastFire(d, Date.now()) ?? Date.now()) : Date.now());
    const start = req.query.start ? Date.parse(req.query.start) : end - hours * 3_600_000;
    if (!(start < end)) throw new AppError('validation_failed', 'start must be before end.');
    const digest = await computeDigest(db, n.org_id, JSON.parse(n.scope) as 'all' | number[], start, end);
    return { notification: n.id, ...digest };
  });

  const tags = ['slack'];
  app.get('/slack/install', {
    schema: { operationId: 'startSlackInstall', tags, summary: 'A Slack OAuth v2 install URL: open it, approve the workspace, and its channels become yours to use', response: { 200: Type.Object({ url: Type.String(), expires_at: Timestamp }), ...errorResponses } },
  }, (req) => installUrl(svc, req.actor));
  app.get('/slack/channels', {
    schema: {
      operationId: 'listSlackChannels',
      tags,
      summary: "Channels of the workspaces you connected (shared by all of your notifications)",
      response: { 200: Type.Object({ data: Type.Array(Type.Object({ channel: Type.String(), name: Type.String(), is_private: Type.Boolean(), team: Type.String(), connection: Id, refreshed_at: Timestamp })) }), ...errorResponses },
    },
  }, async (req) => ({ data: await listChannels(db, req.actor) }));
  app.post('/slack/channels/refresh', {
    schema: { operationId: 'refreshSlackChannels', tags, summary: "Re-read your workspaces' channels from Slack", response: { 200: Type.Object({ channels: Type.Integer() }), ...errorResponses } },
  }, (req) => refreshAll(svc, req.actor));
  app.delete('/slack/connections/:id', {
    schema: { operationId: 'deleteSlackConnection', tags, summary: 'Disconnect a workspace', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await disconnect(svc.store, req.actor, req.params.id);
    return reply.status(204).send(null);
  });
}
