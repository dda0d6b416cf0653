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

/**
 * The JSON columns of an event read from its row, as stored (each written by JSON.stringify),
 * for a renderer that can splice them into a body instead of parsing and serializing them
 * again (dialects/standard.ts). Present only on an event none of whose JSON fields has been
 * read, so a field changed in place can never be sent as its stale text.
 */
export interface StoredEventJson {
  actor: string;
  data: string;
  before: string | null;
  after: string | null;
}

const STORED_JSON = Symbol('labelcast.storedEventJson');

type Stored = CanonicalEvent & { [STORED_JSON]?: StoredEventJson };

/** The stored JSON of an event whose JSON fields are untouched since it was read; else null. */
export function storedJson(ev: CanonicalEvent): StoredEventJson | null {
  return (ev as Stored)[STORED_JSON] ?? null;
}

/**
 * An event whose JSON fields are parsed when first read. Rendering a Standard Webhooks body
 * parsed and serialized every event's data, before and after again (9% of the deliver-only
 * profile, docs/performance.md round 4); an event that is only spliced is never parsed.
 * The fields are own, enumerable properties, so a spread copy reads them (and carries no
 * stored JSON: the symbol property is not enumerable).
 */
export function lazyEvent(head: Omit<CanonicalEvent, 'actor' | 'data' | 'before' | 'after'>, json: StoredEventJson): CanonicalEvent {
  const ev = { ...head } as Stored;
  Object.defineProperty(ev, STORED_JSON, { value: json, configurable: true, writable: true, enumerable: false });
  const field = (key: 'actor' | 'data' | 'before' | 'after', text: string) => {
    const settle = (value: unknown) => {
      // Read once: from here on the object may change, so its stored text no longer speaks for it.
      ev[STORED_JSON] = undefined;
      Object.defineProperty(ev, key, { value, writable: true, enumerable: true, configurable: true });
      return value;
    };
    Object.defineProperty(ev, key, { enumerable: true, configurable: true, get: () => settle(JSON.parse(text)), set: settle });
  };
  field('actor', json.actor);
  field('data', json.data);
  if (json.before !== null) field('before', json.before);
  if (json.after !== null) field('after', json.after);
  return ev;
}
