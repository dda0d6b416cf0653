// /v1/tasks/:id/labels, /v1/labels/:id and the review transition
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { command } from '../../domain/context.js';
import { createLabel, deleteLabel, getLabel, labelHistory, listLabels, updateLabel } from '../../domain/labels.js';
import { reviewLabel } from '../../domain/transitions.js';
import { Activity, IdParams, Label, LabelPatch, NewLabel, PageQuery, Review, ReviewResult, pageOf } from '../schemas.js';

const tags = ['labels'];
const Paging = Type.Object(PageQuery, { additionalProperties: false });

export async function labelRoutes(app: Api, { svc }: { svc: Services }) {
  app.get('/tasks/:id/labels', {
    schema: { operationId: 'listTaskLabels', tags, summary: "A task's labels", params: IdParams, querystring: Paging, response: { 200: pageOf(Label), ...errorResponses } },
  }, (req) => listLabels(svc.store.db, req.actor.org_id, req.params.id, req.query));

  app.post('/tasks/:id/labels', {
    schema: { operationId: 'createLabel', tags, summary: 'Add a label to a task in the annotate stage', params: IdParams, body: NewLabel, response: { 201: Label, ...errorResponses } },
  }, async (req, reply) => {
    const label = await command(svc, req.actor, (ctx) => createLabel(ctx, req.params.id, req.body));
    return reply.status(201).send(label);
  });

  app.get('/labels/:id', {
    schema: { operationId: 'getLabel', tags, summary: 'A label', params: IdParams, response: { 200: Label, ...errorResponses } },
  }, (req) => getLabel(svc.store.db, req.actor.org_id, req.params.id));

  app.patch('/labels/:id', {
    schema: { operationId: 'updateLabel', tags, summary: 'Edit a label; time_ms records how long the edit took', params: IdParams, body: LabelPatch, response: { 200: Label, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updateLabel(ctx, req.params.id, req.body)));

  app.delete('/labels/:id', {
    schema: { operationId: 'deleteLabel', tags, summary: 'Delete a label', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteLabel(ctx, req.params.id));
    return reply.status(204).send(null);
  });

  app.get('/labels/:id/history', {
    schema: { operationId: 'listLabelHistory', tags, summary: 'Who added, edited, submitted and reviewed the label, and how long each took', params: IdParams, querystring: Paging, response: { 200: pageOf(Activity), ...errorResponses } },
  }, (req) => labelHistory(svc.store.db, req.actor.org_id, req.params.id, req.query));

  app.post('/labels/:id/review', {
    schema: { operationId: 'reviewLabel', tags, summary: 'Accept or reject a label of a task in the review stage', params: IdParams, body: Review, response: { 200: ReviewResult, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => reviewLabel(ctx, req.params.id, req.body)));
}
