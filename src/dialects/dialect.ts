// A dialect turns a canonical event into the HTTP request a family of receivers expects.
// Dialects are pure: everything they need that is not in the event (a project's current
// counters, users' emails) arrives in the RenderContext the dispatcher loads beforehand.
import type { CanonicalEvent } from '../model/event.js';
import type { ProjectWithCounters } from '../model/views.js';

/**
 * Where an event's data keeps its project, with Label Studio's counters, as it was in the
 * event's own transaction (issue 10: counters read at send time made a retry show later
 * numbers). Routing adds it only when a dialect that sends counters matched the event
 * (domain/routing.ts); the standard body leaves it out.
 */
export const PROJECT_STATE_KEY = 'project_state';

/** Dialects whose bodies carry the project's counters. */
export const DIALECTS_WITH_PROJECT_STATE = new Set(['label-studio']);

export interface Rendered {
  headers: Record<string, string>;
  body: string;
}

export interface RenderContext {
  /** Projects as they are now, with Label Studio's counters; absent once deleted. */
  projects: Map<number, ProjectWithCounters>;
  users: Map<number, { email: string; name: string }>;
}

/** Per-channel options a dialect reads (from the channel's config). */
export interface DialectOptions {
  /** label-studio: false sends only {"action": …}. */
  send_payload?: boolean;
}

export interface RenderInput {
  event: CanonicalEvent;
  part: number;
  deliveryId: number;
  sentAt: number;
  /** Signing secrets in force, newest first. */
  secrets: string[];
  options: DialectOptions;
  context: RenderContext;
  /** The Encord envelope's "source" (LABELCAST_ENCORD_SOURCE). */
  encordSource: string;
}

export interface Dialect {
  name: string;
  /** Event types this dialect has a message for; others are not routed to its channels. */
  supports(type: string): boolean;
  /** How many messages the event becomes (one delivery each). */
  parts(event: { type: string; data: Record<string, unknown> }): number;
  render(input: RenderInput): Rendered;
  /**
   * Present when the body render() makes is a function of the stored event alone (no
   * context, part, time or secret): the attempt log then stores `name` instead of the body
   * (attempts.request_body_from) and renders it again with `render` when the attempt is read.
   */
  keptBody?: KeptBody;
}

/**
 * A body format the attempt log refers to by name. The name carries a version: whenever
 * `render` would give any stored event a different text, the format gets a new name, and the
 * old renderer stays registered under the old one (dialects/index.ts KEPT_BODIES), so an
 * attempt already recorded still shows exactly what was sent.
 */
export interface KeptBody {
  name: string;
  render(event: CanonicalEvent): string;
}
