// /v1/webhooks (Label Studio's shape) and /v1/pipelines (SuperAnnotate's "Send webhook"
// action): other ways to declare a notification, for teams moving from those tools.
import { Type } from '@sinclair/typebox';
import type { Api } from '../app.js';
import { errorResponses } from '../app.js';
import type { Services } from '../../domain/context.js';
import { command } from '../../domain/context.js';
import {
  createLsWebhook,
  createPipeline,
  deleteLsWebhook,
  deletePipeline,
  getLsWebhook,
  getPipeline,
  listLsWebhooks,
  listPipelines,
  updateLsWebhook,
} from '../../domain/vendor-webhooks.js';
import { IdParams, LsWebhook, LsWebhookPatch, NewLsWebhook, NewPipeline, PageQuery, Pipeline, pageOf, Id } from '../schemas.js';

export async function vendorWebhookRoutes(app: Api, { svc }: { svc: Services }) {
  const db = svc.store.db;
  const tags = ['webhooks (Label Studio)'];
  app.get('/webhooks', {
    schema: { operationId: 'listWebhooks', tags, summary: 'Label Studio-style webhooks, optionally of one project', querystring: Type.Object({ ...PageQuery, project: Type.Optional(Id) }, { additionalProperties: false }), response: { 200: pageOf(LsWebhook), ...errorResponses } },
  }, (req) => listLsWebhooks(db, req.actor.org_id, req.query));
  app.post('/webhooks', {
    schema: { operationId: 'createWebhook', tags, summary: 'Create a webhook with Label Studio payloads (project absent: organization level)', body: NewLsWebhook, response: { 201: LsWebhook, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => createLsWebhook(ctx, req.body))));
  app.get('/webhooks/:id', {
    schema: { operationId: 'getWebhook', tags, summary: 'A Label Studio-style webhook', params: IdParams, response: { 200: LsWebhook, ...errorResponses } },
  }, (req) => getLsWebhook(db, req.actor.org_id, req.params.id));
  app.patch('/webhooks/:id', {
    schema: { operationId: 'updateWebhook', tags, summary: 'Change it; a new url or is_active: true re-enables a disabled webhook', params: IdParams, body: LsWebhookPatch, response: { 200: LsWebhook, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updateLsWebhook(ctx, req.params.id, req.body)));
  app.delete('/webhooks/:id', {
    schema: { operationId: 'deleteWebhook', tags, summary: 'Delete it', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteLsWebhook(ctx, req.params.id));
    return reply.status(204).send(null);
  });

  const ptags = ['pipelines (SuperAnnotate)'];
  app.get('/pipelines', {
    schema: { operationId: 'listPipelines', tags: ptags, summary: 'SuperAnnotate-style pipelines with a Send webhook action', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: pageOf(Pipeline), ...errorResponses } },
  }, (req) => listPipelines(db, req.actor.org_id, req.query));
  app.post('/pipelines', {
    schema: { operationId: 'createPipeline', tags: ptags, summary: 'Create a pipeline: trigger (with from/to for project.status_changed) -> Send webhook', body: NewPipeline, response: { 201: Pipeline, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => createPipeline(ctx, req.body))));
  app.get('/pipelines/:id', {
    schema: { operationId: 'getPipeline', tags: ptags, summary: 'A pipeline', params: IdParams, response: { 200: Pipeline, ...errorResponses } },
  }, (req) => getPipeline(db, req.actor.org_id, req.params.id));
  app.delete('/pipelines/:id', {
    schema: { operationId: 'deletePipeline', tags: ptags, summary: 'Delete a pipeline', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deletePipeline(ctx, req.params.id));
    return reply.status(204).send(null);
  });
}
