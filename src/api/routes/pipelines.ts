// /v1/pipelines (SuperAnnotate's pipelines: a trigger runs actions), /v1/actions (an action,
// its runs), /v1/secrets (secret sets mounted into custom actions), and /v1/hooks/{id}, the
// incoming-webhook trigger, which a token authenticates rather than an API key.
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { command } from '../../domain/context.js';
import { createPipeline, updatePipeline, deletePipeline, getPipeline, listPipelines } from '../../domain/pipelines.js';
import { addAction, deleteAction, getAction, updateAction } from '../../domain/pipeline-actions.js';
import { HOOK_TOKEN_HEADER, MAX_CONTEXT_BYTES, receiveHook, runPipeline } from '../../domain/pipeline-fire.js';
import { getRun, listRuns, rerun } from '../../domain/action-runs.js';
import { createSecretSet, deleteSecretSet, listSecretSets, replaceSecretSet } from '../../domain/action-secrets.js';
import { IdParams, PageQuery, pageOf } from '../schemas.js';
import { Action, ActionInput, ActionPatch, Fired, NewPipeline, PipelinePatch, NewSecretSet, Pipeline, Run, RunParams, RunQuery, SecretSet, SecretSetValues } from '../pipeline-schemas.js';

export async function pipelineRoutes(app: Api, { svc }: { svc: Services }) {
  const db = svc.store.db;
  const url = svc.messaging.publicUrl;
  const tags = ['pipelines (SuperAnnotate)'];
  app.get('/pipelines', {
    schema: { operationId: 'listPipelines', tags, summary: 'SuperAnnotate-style pipelines: a trigger and its actions', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: pageOf(Pipeline), ...errorResponses } },
  }, (req) => listPipelines(db, url, req.actor.org_id, req.query));
  app.post('/pipelines', {
    schema: { operationId: 'createPipeline', tags, summary: 'Create a pipeline: a trigger (event with from/to, incoming_webhook, periodic, manual) -> Send webhook | Send email | Custom action', body: NewPipeline, response: { 201: Pipeline, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => createPipeline(ctx, req.body as never))));
  app.get('/pipelines/:id', {
    schema: { operationId: 'getPipeline', tags, summary: 'A pipeline', params: IdParams, response: { 200: Pipeline, ...errorResponses } },
  }, (req) => getPipeline(db, url, req.actor.org_id, req.params.id));
  app.patch('/pipelines/:id', {
    schema: { operationId: 'updatePipeline', tags, summary: 'Rename, rescope, switch on or off, or change the trigger (an incoming_webhook trigger returns its token once)', params: IdParams, body: PipelinePatch, response: { 200: Pipeline, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updatePipeline(ctx, req.params.id, req.body)));
  app.delete('/pipelines/:id', {
    schema: { operationId: 'deletePipeline', tags, summary: 'Delete a pipeline (its pending runs are cancelled)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deletePipeline(ctx, req.params.id));
    return reply.status(204).send(null);
  });
  app.post('/pipelines/:id/run', {
    bodyLimit: MAX_CONTEXT_BYTES,
    schema: { operationId: 'runPipeline', tags, summary: 'Run now (manual trigger): the body becomes the context of every action', params: IdParams, body: Type.Object({}, { additionalProperties: true }), response: { 202: Fired, ...errorResponses } },
    preValidation: async (req) => {
      req.body ??= {};
    },
  }, async (req, reply) => reply.status(202).send(await command(svc, req.actor, (ctx) => runPipeline(ctx, req.params.id, req.body))));
  app.post('/pipelines/:id/actions', {
    schema: { operationId: 'addPipelineAction', tags, summary: 'Add an action to a pipeline', params: IdParams, body: ActionInput, response: { 201: Action, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => addAction(ctx, req.params.id, req.body as never))));

  const atags = ['actions'];
  app.get('/actions/:id', {
    schema: { operationId: 'getAction', tags: atags, summary: 'An action of a pipeline', params: IdParams, response: { 200: Action, ...errorResponses } },
  }, (req) => getAction(db, req.actor.org_id, req.params.id));
  app.patch('/actions/:id', {
    schema: { operationId: 'updateAction', tags: atags, summary: 'Change an action (fields of its type only)', params: IdParams, body: ActionPatch, response: { 200: Action, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updateAction(ctx, req.params.id, req.body)));
  app.delete('/actions/:id', {
    schema: { operationId: 'deleteAction', tags: atags, summary: 'Remove an action from its pipeline (its pending runs are cancelled)', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteAction(ctx, req.params.id));
    return reply.status(204).send(null);
  });
  app.get('/actions/:id/runs', {
    schema: { operationId: 'listActionRuns', tags: atags, summary: "A custom action's runs, newest first: status, input, output, logs, duration", params: IdParams, querystring: RunQuery, response: { 200: pageOf(Run), ...errorResponses } },
  }, (req) => listRuns(db, req.actor.org_id, req.params.id, req.query));
  app.get('/actions/:id/runs/:run_id', {
    schema: { operationId: 'getActionRun', tags: atags, summary: 'One run', params: RunParams, response: { 200: Run, ...errorResponses } },
  }, (req) => getRun(db, req.actor.org_id, req.params.id, req.params.run_id));
  app.post('/actions/:id/runs/:run_id/rerun', {
    schema: { operationId: 'rerunActionRun', tags: atags, summary: 'Run a finished run again, with the same trigger', params: RunParams, response: { 202: Run, ...errorResponses } },
  }, async (req, reply) => reply.status(202).send(await command(svc, req.actor, (ctx) => rerun(ctx, req.params.id, req.params.run_id))));

  const stags = ['secrets'];
  app.get('/secrets', {
    schema: { operationId: 'listSecretSets', tags: stags, summary: 'Secret sets: names and key names (values are never returned)', response: { 200: Type.Object({ data: Type.Array(SecretSet) }), ...errorResponses } },
  }, (req) => listSecretSets(db, req.actor.org_id));
  app.post('/secrets', {
    schema: { operationId: 'createSecretSet', tags: stags, summary: 'Create a named secret set to mount into custom actions', body: NewSecretSet, response: { 201: SecretSet, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => createSecretSet(ctx, req.body))));
  app.put('/secrets/:id', {
    schema: { operationId: 'replaceSecretSet', tags: stags, summary: "Replace a set's values", params: IdParams, body: SecretSetValues, response: { 200: SecretSet, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => replaceSecretSet(ctx, req.params.id, req.body.values)));
  app.delete('/secrets/:id', {
    schema: { operationId: 'deleteSecretSet', tags: stags, summary: 'Delete a set no action mounts', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteSecretSet(ctx, req.params.id));
    return reply.status(204).send(null);
  });
}

/** Registered outside the API-key scope: the pipeline's token is the credential. */
export async function hookRoutes(app: Api, { svc }: { svc: Services }) {
  app.post('/v1/hooks/:id', {
    bodyLimit: MAX_CONTEXT_BYTES,
    schema: {
      operationId: 'fireHook',
      tags: ['pipelines (SuperAnnotate)'],
      summary: "A pipeline's incoming webhook: send its token in X-Hook-Token; the JSON body becomes the actions' context",
      security: [],
      params: IdParams,
      body: Type.Unknown(),
      response: { 202: Fired, ...errorResponses },
    },
  }, async (req, reply) => {
    const token = req.headers[HOOK_TOKEN_HEADER];
    // Written (event in the payload, one delivery per action) before the answer: durable.
    const fired = await svc.store.tx((trx) => receiveHook(trx, req.params.id, typeof token === 'string' ? token : undefined, req.body ?? {}, Date.now()));
    if (fired.deliveries.length > 0) {
      svc.wake();
      svc.store.notifyWork();
    }
    return reply.status(202).send(fired);
  });
}
