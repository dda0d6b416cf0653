// /v1/notifications, /v1/channels and /v1/deliveries
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { command } from '../../domain/context.js';
import { getDelivery, listDeliveries, recoverChannel, resendDelivery, sendTest } from '../../domain/deliveries.js';
import { createNotification, deleteNotification, getNotification, listNotifications, updateNotification } from '../../domain/notifications.js';
import { rotateSecret } from '../../domain/secret-rotation.js';
import { addChannel, deleteChannel, enableChannel, getChannel, updateChannel } from '../../domain/channels.js';
import {
  Channel,
  ChannelPatch,
  ChannelWithSecret,
  CreatedNotification,
  Delivery,
  DeliveryQuery,
  DeliveryWithAttempts,
  IdParams,
  NewNotification,
  Notification,
  NotificationPatch,
  PageQuery,
  Recover,
  ChannelInput,
  pageOf,
} from '../schemas.js';

export async function notificationRoutes(app: Api, { svc }: { svc: Services }) {
  const tags = ['notifications'];
  const db = svc.store.db;
  app.get('/notifications', {
    schema: { operationId: 'listNotifications', tags, summary: 'List notifications; search filters by title', querystring: Type.Object({ ...PageQuery, search: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }), response: { 200: pageOf(Notification), ...errorResponses } },
  }, (req) => listNotifications(db, svc.ring, req.actor.org_id, req.query));

  app.post('/notifications', {
    schema: { operationId: 'createNotification', tags, summary: 'Create a notification: scope x triggers x channels. Generated secrets are shown only here.', body: NewNotification, response: { 201: CreatedNotification, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => createNotification(ctx, req.body))));

  app.get('/notifications/:id', {
    schema: { operationId: 'getNotification', tags, summary: 'A notification with its channels and their health', params: IdParams, response: { 200: Notification, ...errorResponses } },
  }, (req) => getNotification(db, svc.ring, req.actor.org_id, req.params.id));

  app.patch('/notifications/:id', {
    schema: { operationId: 'updateNotification', tags, summary: 'Change title, description, scope, triggers or active', params: IdParams, body: NotificationPatch, response: { 200: Notification, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updateNotification(ctx, req.params.id, req.body)));

  app.delete('/notifications/:id', {
    schema: { operationId: 'deleteNotification', tags, summary: 'Delete a notification and its channels; their pending deliveries are cancelled', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteNotification(ctx, req.params.id));
    return reply.status(204).send(null);
  });

  app.post('/notifications/:id/channels', {
    schema: { operationId: 'addChannel', tags, summary: 'Add a channel (webhook, email or slack) to a notification', params: IdParams, body: ChannelInput, response: { 201: ChannelWithSecret, ...errorResponses } },
  }, async (req, reply) => reply.status(201).send(await command(svc, req.actor, (ctx) => addChannel(ctx, req.params.id, req.body))));

  const ctags = ['channels'];
  app.get('/channels/:id', {
    schema: { operationId: 'getChannel', tags: ctags, summary: 'A channel and its health', params: IdParams, response: { 200: Channel, ...errorResponses } },
  }, (req) => getChannel(db, svc.ring, req.actor.org_id, req.params.id));

  app.patch('/channels/:id', {
    schema: { operationId: 'updateChannel', tags: ctags, summary: 'Change url, headers, active, max_in_flight or disable_after_failures', params: IdParams, body: ChannelPatch, response: { 200: Channel, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => updateChannel(ctx, req.params.id, req.body)));

  app.delete('/channels/:id', {
    schema: { operationId: 'deleteChannel', tags: ctags, summary: 'Delete a channel; its pending deliveries are cancelled', params: IdParams, response: { 204: Type.Null(), ...errorResponses } },
  }, async (req, reply) => {
    await command(svc, req.actor, (ctx) => deleteChannel(ctx, req.params.id));
    return reply.status(204).send(null);
  });

  app.post('/channels/:id/enable', {
    schema: { operationId: 'enableChannel', tags: ctags, summary: 'Re-enable a channel disabled by failures; held deliveries resume', params: IdParams, response: { 200: Channel, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => enableChannel(ctx, req.params.id)));

  app.post('/channels/:id/rotate-secret', {
    schema: { operationId: 'rotateChannelSecret', tags: ctags, summary: 'A new signing secret (shown once); the old one keeps signing alongside for 24 hours', params: IdParams, response: { 200: ChannelWithSecret, ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => rotateSecret(ctx, req.params.id)));

  app.post('/channels/:id/test', {
    schema: { operationId: 'pingChannel', tags: ctags, summary: 'Send a signed "ping" message through the queue', params: IdParams, response: { 202: Delivery, ...errorResponses } },
  }, async (req, reply) => reply.status(202).send(await command(svc, req.actor, (ctx) => sendTest(ctx, req.params.id))));

  app.post('/channels/:id/recover', {
    schema: { operationId: 'recoverChannel', tags: ctags, summary: 'Send again every dead-lettered delivery of this channel created since a time', params: IdParams, body: Recover, response: { 200: Type.Object({ recovered: Type.Integer() }), ...errorResponses } },
  }, (req) => command(svc, req.actor, (ctx) => recoverChannel(ctx, req.params.id, req.body.since)));

  const dtags = ['deliveries'];
  app.get('/deliveries', {
    schema: { operationId: 'listDeliveries', tags: dtags, summary: 'Deliveries, filtered by notification, channel, status, event type and creation time', querystring: DeliveryQuery, response: { 200: pageOf(Delivery), ...errorResponses } },
  }, (req) => listDeliveries(db, req.actor.org_id, req.query));

  app.get('/deliveries/:id', {
    schema: { operationId: 'getDelivery', tags: dtags, summary: 'A delivery with every attempt: request, response, latency, error', params: IdParams, response: { 200: DeliveryWithAttempts, ...errorResponses } },
  }, (req) => getDelivery(db, req.actor.org_id, req.params.id));

  app.post('/deliveries/:id/resend', {
    schema: { operationId: 'resendDelivery', tags: dtags, summary: 'Send a finished delivery again with a fresh retry schedule', params: IdParams, response: { 202: Delivery, ...errorResponses } },
  }, async (req, reply) => reply.status(202).send(await command(svc, req.actor, (ctx) => resendDelivery(ctx, req.params.id))));
}
