// The public shape of a pipeline and its actions (/v1/pipelines, /v1/actions), from the
// notification and channel rows they are stored as, and loading a pipeline by id.
import type { Selectable } from 'kysely';
import type { Db } from '../store/db.js';
import type { ChannelTable, NotificationTable } from '../store/schema.js';
import { notFound } from '../model/errors.js';
import { iso } from '../model/views.js';
import type { ActionConfig, WebhookConfig } from '../model/channel-config.js';
import type { EventTrigger, Trigger } from '../model/triggers.js';

export interface ActionView {
  id: number;
  /** The channel id (the same number): deliveries and attempts name it. */
  channel: number;
  pipeline: number;
  type: 'send_webhook' | 'send_email' | 'custom_action';
  is_active: boolean;
  request_url?: string;
  signed?: boolean;
  recipients?: string[];
  language?: string;
  code?: string;
  args?: Record<string, unknown>;
  secret?: string | null;
  limits?: ActionConfig['limits'];
  ttl_s?: number;
}

export interface PipelineView {
  id: number;
  name: string;
  project: number | null;
  trigger: EventTrigger;
  /** The first action (the shape before pipelines had several). */
  action: ActionView | null;
  actions: ActionView[];
  is_active: boolean;
  /** Incoming-webhook pipelines: where to POST; the token is returned once, at creation. */
  hook?: { url: string; header: string; token_prefix: string };
  created_at: string;
  updated_at: string;
}

export function actionView(c: Selectable<ChannelTable>): ActionView {
  const base = { id: c.id, channel: c.id, pipeline: c.notification_id, is_active: c.active === 1 };
  if (c.kind === 'email') return { ...base, type: 'send_email', recipients: (JSON.parse(c.config) as { recipients: string[] }).recipients };
  if (c.kind === 'action') {
    const a = JSON.parse(c.config) as ActionConfig;
    return { ...base, type: 'custom_action', language: a.language, code: a.code, args: a.args, secret: a.secret, limits: a.limits, ttl_s: Math.round(a.ttl_ms / 1000) };
  }
  return { ...base, type: 'send_webhook', request_url: (JSON.parse(c.config) as WebhookConfig).url, signed: c.secret !== null };
}

export function pipelineView(n: Selectable<NotificationTable>, channels: Selectable<ChannelTable>[], hook: { prefix: string } | undefined, publicUrl: string): PipelineView {
  const scope = JSON.parse(n.scope) as 'all' | number[];
  const [t] = JSON.parse(n.triggers) as Trigger[];
  const actions = channels.filter((c) => c.notification_id === n.id).sort((a, b) => a.id - b.id).map(actionView);
  const view: PipelineView = {
    id: n.id,
    name: n.title,
    project: scope === 'all' ? null : scope[0]!,
    trigger: typeof t === 'string' ? { event: t } : (t as EventTrigger),
    action: actions[0] ?? null,
    actions,
    is_active: n.active === 1,
    created_at: iso(n.created_at),
    updated_at: iso(n.updated_at),
  };
  if (hook) view.hook = { url: `${publicUrl}/v1/hooks/${n.id}`, header: 'X-Hook-Token', token_prefix: hook.prefix };
  return view;
}

export async function loadPipeline(db: Db, orgId: number, id: number) {
  const n = await db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('id', '=', id).where('origin', '=', 'superannotate').executeTakeFirst();
  if (!n) throw notFound('pipeline', id);
  return n;
}

export async function viewOf(db: Db, publicUrl: string, n: Selectable<NotificationTable>): Promise<PipelineView> {
  const channels = await db.selectFrom('channels').selectAll().where('notification_id', '=', n.id).execute();
  const hook = await db.selectFrom('pipeline_hooks').select('prefix').where('notification_id', '=', n.id).executeTakeFirst();
  return pipelineView(n, channels, hook, publicUrl);
}
