// /v1/projects/:id/tasks, /v1/tasks/:id and the submit transition
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { command } from '../../domain/context.js';
import { assignTask, deleteTask, getTask, importTasks, listTasks } from '../../domain/tasks.js';
import { submitTask } from '../../domain/transitions.js';
import { IdParams, ImportResult, ImportTasks, PageQuery, StageKind, Submit, Task, pageOf } from '../schemas.js';

const tags = ['tasks'];

export async function taskRoutes(app: Api, { svc }: { svc: Services }) {
  app.get('/projects/:id/tasks', {
    schema: {
      operationId: 'listProjectTasks',
      tags,
      summary: "List a project's tasks, optionally those in one stage",
      params: IdParams,
      querystring: Type.Object({ ...PageQuery, stage: Type.Optional(StageKind) }, { additionalProperties: false }),
      response: { 200: pageOf(Task), ...errorResponses },
    },
  }, (req) => listTasks(svc.store.db, req.actor.org_id, req.params.id, req.query));

  app.post('/projects/:id/tasks', {
    schema: { operationId: 'createTasks', tags, summary: 'Import tasks in bulk (one task.created event per import)', params: IdParams, body: ImportTasks, response: { 201: ImportResult, ...errorResponses } },
  }, async (req, reply) => {
    const tasks = await command(svc, req.actor, (ctx) => importTasks(ctx, req.params.id, req.body.tasks));
    return reply.status(201).send({ task_count: tasks.length, tasks });
  });

  app.get('/tasks/:id', {
    schema: { operationId: 'getTask', tags, summary: 'A task with its current stage', params: IdParams, response: { 200: Task, ...errorResponses } },
  }, (req) => getTask(svc.store.db, req.actor.org_id, req.params.id));

  app.patch('/tasks/:id', {
    schema: {
      operationId: 'assignTask',
      tags,
      summary: "Assign the task's annotator or reviewer (a task.assigned event when either changes)",
      params: IdParams,
      body: Type.Object(
        { assignee: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])), reviewer: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])) },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: Task, ...errorResponses },
    },
  }, (req) => command(svc, req.actor, (ctx) => assignTask(ctx, req.params.id, req.body)));

  app.delete('/tasks/:id', {
    schema: { operationId: 'deleteTask', tags, summary: 'Delete a task and its labels', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteTask(ctx, req.params.id));
    return reply.status(204).send(null);
  });

  app.post('/tasks/:id/submit', {
    schema: {
      operationId: 'submitTask',
      tags,
      summary: 'Submit an annotated task: to review, or to complete when the workflow has no review stage',
      params: IdParams,
      body: Submit,
      response: { 200: Task, ...errorResponses },
    },
    // Every field is optional, so a bare POST (no body) is a valid submission.
    preValidation: async (req) => {
      req.body ??= {};
    },
  }, (req) => command(svc, req.actor, (ctx) => submitTask(ctx, req.params.id, req.body)));
}
