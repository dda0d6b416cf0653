// Who may do what. Reads are open to every member of the organization; writes depend on the
// role of the user the API key belongs to (roles from issue 2: admin, manager, annotator,
// reviewer).
import type { Actor, Role } from './context.js';
import { AppError } from '../model/errors.js';

export const CAN = {
  manageProjects: ['admin', 'manager'],
  manageUsers: ['admin', 'manager'],
  annotate: ['admin', 'manager', 'annotator'],
  review: ['admin', 'manager', 'reviewer'],
  manageAllKeys: ['admin'],
  actOnBehalf: ['admin', 'manager'],
  // Every member may set up notifications: reviewers want to hear of submissions, managers
  // of digests (seed 000's use cases); all of them can read the events anyway.
  manageNotifications: ['admin', 'manager', 'annotator', 'reviewer'],
} as const satisfies Record<string, readonly Role[]>;

export function requireRole(actor: Actor, allowed: readonly Role[], action: string): void {
  if (!allowed.includes(actor.role)) {
    throw new AppError(
      'forbidden',
      `Your role '${actor.role}' may not ${action}; it needs one of: ${allowed.join(', ')}.`,
    );
  }
}
