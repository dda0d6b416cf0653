// /v1/events: the outbox, readable in commit order with a cursor.
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { getEvent, listEvents } from '../../domain/events.js';
import { Event, EventQuery, pageOf } from '../schemas.js';

const tags = ['events'];

export async function eventRoutes(app: Api, { svc }: { svc: Services }) {
  app.get('/events', {
    schema: { operationId: 'listEvents', tags, summary: 'Events in the order they were committed; pass next_cursor to continue', querystring: EventQuery, response: { 200: pageOf(Event), ...errorResponses } },
  }, (req) => listEvents(svc.store.db, req.actor.org_id, req.query));

  app.get('/events/:id', {
    schema: { operationId: 'getEvent', tags, summary: 'One event by its id', params: Type.Object({ id: Type.String({ format: 'uuid' }) }, { additionalProperties: false }), response: { 200: Event, ...errorResponses } },
  }, (req) => getEvent(svc.store.db, req.actor.org_id, req.params.id));
}
