// /v1/webhooks (Label Studio's shape): another way to declare a notification, for teams
// moving from Label Studio. SuperAnnotate's /v1/pipelines are in routes/pipelines.ts.
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { command } from '../../domain/context.js';
import {
  createLsWebhook,
  deleteLsWebhook,
  getLsWebhook,
  listLsWebhooks,
  updateLsWebhook,
} from '../../domain/vendor-webhooks.js';
import { IdParams, LsWebhook, LsWebhookPatch, NewLsWebhook, PageQuery, pageOf, Id } from '../schemas.js';

export async function vendorWebhookRoutes(app: Api, { svc }: { svc: Services }) {
  const db = svc.store.db;
  const tags = ['webhooks (Label Studio)'];
  app.get('/webhooks', {
    schema: { operationId: 'listWebhooks', tags, summary: 'Label Studio-style webhooks, optionally of one project', querystring: Type.Object({ ...PageQuery, project: Type.Optional(Id) }, { additionalProperties: false }), response: { 200: pageOf(LsWebhook), ...errorResponses } },
  }, (req) => listLsWebhooks(db, svc.ring, req.actor.org_id, req.query));
  app.post('/webhooks', {
    schema: { operationId: 'createWebhook', tags, summary: 'Create a webhook with Label Studio payloads (project absent: organization level)', body: NewLsWebhook, response: { 201: LsWebhook, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => createLsWebhook(ctx, req.body))));
  app.get('/webhooks/:id', {
    schema: { operationId: 'getWebhook', tags, summary: 'A Label Studio-style webhook', params: IdParams, response: { 200: LsWebhook, ...errorResponses } },
  }, (req) => getLsWebhook(db, svc.ring, req.actor.org_id, req.params.id));
  app.patch('/webhooks/:id', {
    schema: { operationId: 'updateWebhook', tags, summary: 'Change it; a new url or is_active: true re-enables a disabled webhook', params: IdParams, body: LsWebhookPatch, response: { 200: LsWebhook, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updateLsWebhook(ctx, req.params.id, req.body)));
  app.delete('/webhooks/:id', {
    schema: { operationId: 'deleteWebhook', tags, summary: 'Delete it', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteLsWebhook(ctx, req.params.id));
    return reply.status(204).send(null);
  });
}
