// /v1/projects and /v1/projects/:id/workflow
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { command } from '../../domain/context.js';
import { createProject, deleteProject, getWorkflow, listProjects, replaceWorkflow, updateProject } from '../../domain/projects.js';
import { getProject } from '../../domain/project-reads.js';
import { IdParams, NewProject, PageQuery, Project, ProjectPatch, ProjectStatus, ProjectSummary, ProjectWithCounters, Workflow, WorkflowInput, pageOf } from '../schemas.js';

const tags = ['projects'];

export async function projectRoutes(app: Api, { svc }: { svc: Services }) {
  app.get('/projects', {
    schema: {
      operationId: 'listProjects',
      tags,
      summary: 'List projects, optionally filtered by a title search or status',
      querystring: Type.Object({ ...PageQuery, search: Type.Optional(Type.String({ maxLength: 200 })), status: Type.Optional(ProjectStatus) }, { additionalProperties: false }),
      response: { 200: pageOf(ProjectSummary), ...errorResponses },
    },
  }, (req) => listProjects(svc.store.db, req.actor.org_id, req.query));

  app.post('/projects', {
    schema: { operationId: 'createProject', tags, summary: 'Create a project with its workflow (default: annotate, review, complete)', body: NewProject, response: { 201: Project, ...errorResponses } },
  }, async (req, reply) => {
    const p = await command(svc, req.actor, (ctx) => createProject(ctx, req.body));
    return reply.status(201).send(p);
  });

  app.get('/projects/:id', {
    schema: { operationId: 'getProject', tags, summary: 'A project with its workflow and Label Studio counters', params: IdParams, response: { 200: ProjectWithCounters, ...errorResponses } },
  }, (req) => getProject(svc.store.db, svc.store.kind, req.actor.org_id, req.params.id));

  app.patch('/projects/:id', {
    schema: { operationId: 'updateProject', tags, summary: 'Change title, description, label config or status', params: IdParams, body: ProjectPatch, response: { 200: Project, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updateProject(ctx, req.params.id, req.body)));

  app.delete('/projects/:id', {
    schema: { operationId: 'deleteProject', tags, summary: 'Delete a project with its tasks and labels', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteProject(ctx, req.params.id));
    return reply.status(204).send(null);
  });

  app.get('/projects/:id/workflow', {
    schema: { operationId: 'getWorkflow', tags, summary: "The project's workflow stages with their task counts", params: IdParams, response: { 200: Workflow, ...errorResponses } },
  }, (req) => getWorkflow(svc.store.db, req.actor.org_id, req.params.id));

  app.put('/projects/:id/workflow', {
    schema: { operationId: 'replaceWorkflow', tags, summary: 'Replace the workflow stages; a stage keeps its id while its kind stays', params: IdParams, body: WorkflowInput, response: { 200: Workflow, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => replaceWorkflow(ctx, req.params.id, req.body.stages)));
}
