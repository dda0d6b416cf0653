// Team members of an organization. Users are who acts (annotators label, reviewers review)
// and who the digest statistics are about (seed 000: user_email in AnnotatorStats).
import type { Db } from '../store/db.js';
import type { Ctx, Role } from './context.js';
import { CAN, requireRole } from './access.js';
import { AppError, notFound } from '../model/errors.js';
import { pageLimit, decodeCursor, toPage, type Page, type PageQuery } from './paging.js';
import { type UserView } from '../model/views.js';
import { userView } from './views.js';

export interface NewUser {
  email: string;
  name: string;
  role: Role;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function createUser(ctx: Ctx, input: NewUser): Promise<UserView> {
  requireRole(ctx.actor, CAN.manageUsers, 'add team members');
  if (input.role === 'admin' && ctx.actor.role !== 'admin') {
    throw new AppError('forbidden', 'Only an admin may add another admin.');
  }
  const email = normalizeEmail(input.email);
  const clash = await ctx.trx
    .selectFrom('users')
    .select('id')
    .where('org_id', '=', ctx.actor.org_id)
    .where('email', '=', email)
    .executeTakeFirst();
  if (clash) throw new AppError('conflict', `A user with email ${email} already exists (id ${clash.id}).`);
  const row = await ctx.trx
    .insertInto('users')
    .values({ org_id: ctx.actor.org_id, email, name: input.name, role: input.role, created_at: ctx.now, updated_at: ctx.now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return userView(row);
}

export async function updateUser(ctx: Ctx, id: number, patch: { name?: string | undefined; role?: Role | undefined }): Promise<UserView> {
  requireRole(ctx.actor, CAN.manageUsers, 'change team members');
  const user = await ctx.trx
    .selectFrom('users')
    .selectAll()
    .where('org_id', '=', ctx.actor.org_id)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!user) throw notFound('user', id);
  if ((patch.role === 'admin' || user.role === 'admin') && ctx.actor.role !== 'admin' && patch.role !== undefined) {
    throw new AppError('forbidden', 'Only an admin may grant or remove the admin role.');
  }
  const row = await ctx.trx
    .updateTable('users')
    .set({ name: patch.name ?? user.name, role: patch.role ?? user.role, updated_at: ctx.now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return userView(row);
}

export async function getUser(db: Db, orgId: number, id: number): Promise<UserView> {
  const row = await db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('user', id);
  return userView(row);
}

export async function listUsers(db: Db, orgId: number, q: PageQuery & { role?: Role | undefined }): Promise<Page<UserView>> {
  const limit = pageLimit(q);
  let query = db
    .selectFrom('users')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '>', decodeCursor(q.cursor));
  if (q.role) query = query.where('role', '=', q.role);
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  return toPage(rows, limit, userView);
}

/** The user a command acts for: the key's own user, or (for admins and managers) another member. */
export async function resolveActingUser(ctx: Ctx, userId: number | undefined): Promise<{ id: number; email: string; role: string }> {
  if (userId === undefined || userId === ctx.actor.user_id) {
    return { id: ctx.actor.user_id, email: ctx.actor.email, role: ctx.actor.role };
  }
  requireRole(ctx.actor, CAN.actOnBehalf, 'act on behalf of another user');
  const u = await ctx.trx
    .selectFrom('users')
    .select(['id', 'email', 'role'])
    .where('org_id', '=', ctx.actor.org_id)
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!u) throw notFound('user', userId);
  return u;
}
