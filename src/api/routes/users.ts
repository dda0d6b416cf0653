// /v1/users and /v1/api-keys
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { command } from '../../domain/context.js';
import { createKey, deleteKey, listKeys } from '../../domain/api-keys.js';
import { createUser, getUser, listUsers, updateUser } from '../../domain/users.js';
import { ApiKey, CreatedApiKey, IdParams, NewApiKey, NewUser, PageQuery, Role, User, UserPatch, pageOf } from '../schemas.js';

export async function userRoutes(app: Api, { svc }: { svc: Services }) {
  const tags = ['users'];
  app.get('/users', {
    schema: { operationId: 'listUsers', tags, summary: "The organization's team members", querystring: Type.Object({ ...PageQuery, role: Type.Optional(Role) }, { additionalProperties: false }), response: { 200: pageOf(User), ...errorResponses } },
  }, (req) => listUsers(svc.store.db, req.actor.org_id, req.query));

  app.post('/users', {
    schema: { operationId: 'createUser', tags, summary: 'Add a team member', body: NewUser, response: { 201: User, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => createUser(ctx, req.body))));

  app.get('/users/me', {
    schema: { operationId: 'getCurrentUser', tags, summary: 'The user this API key belongs to', response: { 200: User, ...errorResponses } },
  }, (req) => getUser(svc.store.db, req.actor.org_id, req.actor.user_id));

  app.get('/users/:id', {
    schema: { operationId: 'getUser', tags, summary: 'A team member', params: IdParams, response: { 200: User, ...errorResponses } },
  }, (req) => getUser(svc.store.db, req.actor.org_id, req.params.id));

  app.patch('/users/:id', {
    schema: { operationId: 'updateUser', tags, summary: "Change a member's name or role", params: IdParams, body: UserPatch, response: { 200: User, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updateUser(ctx, req.params.id, req.body)));

  const keyTags = ['api-keys'];
  app.get('/api-keys', {
    schema: { operationId: 'listApiKeys', tags: keyTags, summary: 'Your API keys (admins: all of the organization)', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: pageOf(ApiKey), ...errorResponses } },
  }, (req) => listKeys(svc.store.db, req.actor, req.query));

  app.post('/api-keys', {
    schema: { operationId: 'createApiKey', tags: keyTags, summary: 'Create an API key; the key is shown only in this response', body: NewApiKey, response: { 201: CreatedApiKey, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => createKey(ctx, req.body))));

  app.delete('/api-keys/:id', {
    schema: { operationId: 'deleteApiKey', tags: keyTags, summary: 'Revoke an API key', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteKey(ctx, req.params.id));
    return reply.status(204).send(null);
  });
}
