// /v1/activity: read-only delivery activity per minute for the console's Activity chart.
import { Type } from '@sinclair/typebox';
import type { Api } from '../http.js';
import { errorResponses } from '../http.js';
import type { Services } from '../../domain/context.js';
import { MAX_ACTIVITY_HOURS, deliveryActivity } from '../../domain/activity.js';
import { Timestamp } from '../schemas.js';

const ActivityMinute = Type.Object({
  at: Timestamp,
  success: Type.Integer({ description: 'Attempts that succeeded in this minute' }),
  failure: Type.Integer({ description: 'Attempts that failed in this minute (each may be retried)' }),
  dead_lettered: Type.Integer({ description: 'Deliveries that gave up (status failed) in this minute' }),
  backlog: Type.Integer({ description: 'Deliveries created and not yet finished at the end of this minute' }),
});

export async function activityRoutes(app: Api, { svc }: { svc: Services }) {
  app.get('/activity', {
    schema: {
      operationId: 'getDeliveryActivity',
      tags: ['deliveries'],
      summary: 'Delivery attempts per minute by outcome, and the backlog, over the last hours',
      querystring: Type.Object({ hours: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_ACTIVITY_HOURS, default: 3 })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ start: Timestamp, end: Timestamp, minutes: Type.Array(ActivityMinute), due_now: Type.Integer({ description: 'Pending deliveries due now' }) }),
        ...errorResponses,
      },
    },
  }, (req) => deliveryActivity(svc.store.db, req.actor.org_id, req.query.hours ?? 3));
}
