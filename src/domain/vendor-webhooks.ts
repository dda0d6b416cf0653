// Two more ways of declaring webhooks, each a view of a notification with one channel:
// - Label Studio's webhooks (seed 003; /v1/webhooks): url, headers, send_payload,
//   send_for_all_actions, actions, is_active, project (absent: organization level).
// - SuperAnnotate's pipeline "Send webhook" action (seed 004; /v1/pipelines): a trigger
//   (with from/to filters for "project status updated") and a Request URL with an
//   optional HMAC Secret.
import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { ChannelTable, NotificationTable } from '../store/schema.js';
import type { Keyring } from '../store/seal.js';
import { openConfig } from '../store/sealed.js';
import { ACTION_EVENTS, type LsAction } from '../dialects/label-studio.js';
import type { Ctx } from './context.js';
import { AppError, notFound } from '../model/errors.js';
import { iso } from '../model/views.js';
import { decodeCursor, pageLimit, toPage, type Page, type PageQuery } from './paging.js';
import { createNotification, deleteNotification, updateNotification } from './notifications.js';
import { maskHeaders } from '../model/header-masking.js';
import { type WebhookConfig } from '../model/channel-config.js';
import { type Trigger } from '../model/triggers.js';
import { updateChannel } from './channels.js';


// ---------------------------------------------------------------- Label Studio

export interface LsWebhookInput {
  url: string;
  project?: number | null | undefined;
  headers?: Record<string, string> | undefined;
  send_payload?: boolean | undefined;
  send_for_all_actions?: boolean | undefined;
  actions?: LsAction[] | undefined;
  is_active?: boolean | undefined;
}

export interface LsWebhookView {
  id: number;
  organization: number;
  project: number | null;
  url: string;
  send_payload: boolean;
  send_for_all_actions: boolean;
  headers: Record<string, string>;
  is_active: boolean;
  actions: LsAction[];
  created_at: string;
  updated_at: string;
}

interface LsConfig extends WebhookConfig {
  ls_actions?: LsAction[];
  ls_all?: boolean;
}


function lsView(n: Selectable<NotificationTable>, c: Selectable<ChannelTable>, ring: Keyring): LsWebhookView {
  const cfg = openConfig<LsConfig>(ring, c.kind, c.config);
  const scope = JSON.parse(n.scope) as 'all' | number[];
  return {
    id: n.id,
    organization: n.org_id,
    project: scope === 'all' ? null : scope[0]!,
    url: cfg.url,
    send_payload: cfg.send_payload !== false,
    send_for_all_actions: cfg.ls_all !== false,
    // Masked as /v1/notifications masks them (issue 10 defect 5): any member may list
    // webhooks, and an Authorization header is a credential.
    headers: maskHeaders(cfg.headers),
    is_active: n.active === 1 && c.active === 1 && c.disabled_at === null,
    actions: cfg.ls_actions ?? [],
    created_at: iso(n.created_at),
    updated_at: iso(Math.max(n.updated_at, c.updated_at)),
  };
}

function lsTriggers(all: boolean, actions: LsAction[], project: number | null | undefined): Trigger[] {
  if (project != null && actions.some((a) => a === 'PROJECT_CREATED' || a === 'PROJECT_DELETED')) {
    throw new AppError('validation_failed', 'PROJECT_CREATED and PROJECT_DELETED are sent to organization-level webhooks only; leave out project to receive them.');
  }
  if (all) return ['all'];
  if (actions.length === 0) throw new AppError('validation_failed', 'actions must list at least one action when send_for_all_actions is false.');
  return [...new Set(actions.flatMap((a) => ACTION_EVENTS[a]))];
}

async function loadLs(db: Db, orgId: number, id: number) {
  const n = await db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('id', '=', id).where('origin', '=', 'label-studio').executeTakeFirst();
  if (!n) throw notFound('webhook', id);
  const c = await db.selectFrom('channels').selectAll().where('notification_id', '=', id).orderBy('id').executeTakeFirstOrThrow();
  return { n, c };
}

export async function createLsWebhook(ctx: Ctx, input: LsWebhookInput): Promise<LsWebhookView> {
  const all = input.send_for_all_actions ?? true;
  const actions = input.actions ?? [];
  const created = await createNotification(
    ctx,
    {
      title: `Label Studio webhook ${input.url}`,
      scope: { projects: input.project != null ? [input.project] : 'all' },
      triggers: lsTriggers(all, actions, input.project),
      active: input.is_active ?? true,
      channels: [
        {
          type: 'webhook',
          url: input.url,
          dialect: 'label-studio',
          headers: input.headers ?? {},
          send_payload: input.send_payload ?? true,
          disable_after_failures: ctx.svc.delivery.labelStudioMaxFailures,
        },
      ],
    },
    { origin: 'label-studio' },
  );
  await rememberActions(ctx, created.channels[0]!.id, all, actions);
  const { n, c } = await loadLs(ctx.trx, ctx.actor.org_id, created.id);
  return lsView(n, c, ctx.svc.ring);
}

async function rememberActions(ctx: Ctx, channelId: number, all: boolean, actions: LsAction[]): Promise<void> {
  const c = await ctx.trx.selectFrom('channels').select('config').where('id', '=', channelId).executeTakeFirstOrThrow();
  const cfg = JSON.parse(c.config) as LsConfig;
  await ctx.trx.updateTable('channels').set({ config: JSON.stringify({ ...cfg, ls_actions: actions, ls_all: all }) }).where('id', '=', channelId).execute();
}

export async function updateLsWebhook(ctx: Ctx, id: number, patch: Partial<LsWebhookInput>): Promise<LsWebhookView> {
  const { n, c } = await loadLs(ctx.trx, ctx.actor.org_id, id);
  const cfg = JSON.parse(c.config) as LsConfig;
  const scope = JSON.parse(n.scope) as 'all' | number[];
  const project = patch.project !== undefined ? patch.project : scope === 'all' ? null : scope[0];
  const all = patch.send_for_all_actions ?? cfg.ls_all !== false;
  const actions = patch.actions ?? cfg.ls_actions ?? [];
  await updateNotification(ctx, id, {
    scope: { projects: project != null ? [project] : 'all' },
    triggers: lsTriggers(all, actions, project),
    ...(patch.is_active !== undefined ? { active: patch.is_active } : {}),
  });
  await updateChannel(ctx, c.id, {
    ...(patch.url !== undefined ? { url: patch.url } : {}),
    ...(patch.headers !== undefined ? { headers: patch.headers } : {}),
  });
  const after = await ctx.trx.selectFrom('channels').select('config').where('id', '=', c.id).executeTakeFirstOrThrow();
  const next = { ...(JSON.parse(after.config) as LsConfig), ls_actions: actions, ls_all: all, ...(patch.send_payload !== undefined ? { send_payload: patch.send_payload } : {}) };
  // Re-activating a webhook clears an automatic disable, as Label Studio does.
  const reenable = patch.is_active === true ? { disabled_at: null, disabled_reason: null, failure_streak: 0, first_failure_at: null, active: 1 } : {};
  await ctx.trx.updateTable('channels').set({ config: JSON.stringify(next), ...reenable, updated_at: ctx.now }).where('id', '=', c.id).execute();
  const fresh = await loadLs(ctx.trx, ctx.actor.org_id, id);
  return lsView(fresh.n, fresh.c, ctx.svc.ring);
}

export async function getLsWebhook(db: Db, ring: Keyring, orgId: number, id: number): Promise<LsWebhookView> {
  const { n, c } = await loadLs(db, orgId, id);
  return lsView(n, c, ring);
}

export async function listLsWebhooks(db: Db, ring: Keyring, orgId: number, q: PageQuery & { project?: number | undefined }): Promise<Page<LsWebhookView>> {
  const limit = pageLimit(q);
  let query = db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('origin', '=', 'label-studio').where('id', '>', decodeCursor(q.cursor));
  // A Label Studio webhook is scoped to one project or to all: its scope is "[id]" or "all".
  if (q.project !== undefined) query = query.where('scope', '=', JSON.stringify([q.project]));
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  const channels = rows.length ? await db.selectFrom('channels').selectAll().where('notification_id', 'in', rows.map((r) => r.id)).execute() : [];
  return toPage(rows, limit, (n) => lsView(n, channels.find((c) => c.notification_id === n.id)!, ring));
}

export async function deleteLsWebhook(ctx: Ctx, id: number): Promise<void> {
  await loadLs(ctx.trx, ctx.actor.org_id, id);
  await deleteNotification(ctx, id);
}

// SuperAnnotate's pipelines moved to domain/pipelines.ts (issue 13: every trigger and action).
