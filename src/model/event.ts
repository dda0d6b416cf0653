// The canonical event (DESIGN.md "Canonical event"): what every change of the workflow becomes,
// what routing matches and what every dialect and message renders. Pure types, no I/O.

export const EVENT_TYPES = [
  'project.created',
  'project.updated',
  'project.deleted',
  'project.status_changed',
  'task.created',
  'task.deleted',
  'task.submitted',
  'task.completed',
  'annotation.created',
  'annotation.updated',
  'annotation.deleted',
  'review.accepted',
  'review.rejected',
  'task.assigned',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventActor {
  user_id: number;
  email: string;
  api_key_id: number | null;
}

export interface CanonicalEvent {
  id: string;
  /** Also, for messages that are not stored events: 'ping' (tests), 'digest', 'email.batch'. */
  type: EventType | 'ping' | 'digest' | 'email.batch' | 'pipeline.incoming_webhook' | 'pipeline.periodic' | 'pipeline.manual';
  occurred_at: string;
  org_id: number;
  project_id: number | null;
  actor: EventActor;
  data: Record<string, unknown>;
  before?: unknown;
  after?: unknown;
}
