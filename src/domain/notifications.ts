// Notifications: the user's one concept (DESIGN.md): scope (which projects, or the whole
// organization) x triggers (which events) x channels (where). This channel is the
// webhook; the channel row keeps kind-specific settings in `config` so email, Slack and
// digest channels add a kind, not a table.
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import { literalRefusal } from '../model/addresses.js';
import { signalWork } from './routing.js';
import { dialect as dialectOf, type DialectName } from '../dialects/index.js';
import { nextFire } from '../model/cron.js';
import type { Db } from '../store/connect.js';
import type { ChannelTable, NotificationTable } from '../store/schema.js';
import { seal, type Keyring } from '../store/seal.js';
import { openConfig, sealConfig } from '../store/sealed.js';
import type { Ctx } from './context.js';
import { CAN, requireRole } from './access.js';
import { iso, isoOrNull } from '../model/views.js';
import { AppError, notFound } from '../model/errors.js';
import { decodeCursor, pageLimit, titleContains, toPage, type Page, type PageQuery } from './paging.js';
import { FROM_TO_TRIGGERS, firedKind, triggerSourceTypes } from '../model/triggers.js';

export { DIALECT_NAMES as DIALECTS } from '../dialects/index.js';
export type Dialect = DialectName;

// Headers a dialect owns or HTTP itself needs: a custom header may not replace them, so a
// receiver can always trust the signature and framing it sees.
export const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
  'te',
  'upgrade',
  'x-authorization-content-sha256',
  'x-event',
  'x-delivery',
]);
export const MAX_HEADERS = 10;
const HEADER_NAME = /^[A-Za-z0-9_-]+$/;

export type Scope = 'all' | number[];

export interface WebhookInput {
  type: 'webhook';
  url: string;
  dialect?: Dialect | undefined;
  /** true: generate one; a string: use it; absent or false: unsigned. */
  secret?: boolean | string | undefined;
  headers?: Record<string, string> | undefined;
  active?: boolean | undefined;
  max_in_flight?: number | undefined;
  disable_after_failures?: number | null | undefined;
  /** label-studio: false sends only {"action": …}. */
  send_payload?: boolean | undefined;
}

export interface EmailInput {
  type: 'email';
  recipients: string[];
  active?: boolean | undefined;
}

export interface SlackInput {
  type: 'slack';
  /** An incoming-webhook URL, or ... */
  webhook_url?: string | undefined;
  /** ... a channel id of a workspace the user connected (GET /v1/slack/channels). */
  channel?: string | undefined;
  active?: boolean | undefined;
}

export type ChannelInput = WebhookInput | EmailInput | SlackInput;

export interface DigestTrigger {
  /** Cron (5 fields) in tz; default "0 17 * * *" UTC, the seed's 5 pm UTC daily digest. */
  cron?: string | undefined;
  tz?: string | undefined;
  /** The period the digest covers, ending at each run; default 24 hours. */
  window_hours?: number | undefined;
  /** Send a digest with no activity; default false (skip it). */
  send_empty?: boolean | undefined;
}

/**
 * An event type, one with filters on its from/to values (project.status_changed), or a digest.
 * Pipelines add (model/triggers.ts) the derived "annotation status updated" event
 * and the fired kinds {event: 'incoming_webhook' | 'periodic' (cron, tz) | 'manual'}.
 */
export type Trigger = string | { event: string; from?: string[] | undefined; to?: string[] | undefined; cron?: string | undefined; tz?: string | undefined } | { digest: DigestTrigger };

export interface NewNotification {
  title: string;
  description?: string | undefined;
  scope?: { projects: Scope } | undefined;
  triggers: Trigger[];
  active?: boolean | undefined;
  channels?: ChannelInput[] | undefined;
}

export interface NotificationPatch {
  title?: string | undefined;
  description?: string | undefined;
  scope?: { projects: Scope } | undefined;
  triggers?: Trigger[] | undefined;
  active?: boolean | undefined;
}

export interface ChannelPatch {
  url?: string | undefined;
  headers?: Record<string, string> | undefined;
  active?: boolean | undefined;
  max_in_flight?: number | undefined;
  disable_after_failures?: number | null | undefined;
  send_payload?: boolean | undefined;
}

export interface ChannelView {
  id: number;
  notification: number;
  type: string;
  // webhook
  url?: string;
  dialect?: string;
  headers?: Record<string, string>;
  send_payload?: boolean;
  signed?: boolean;
  // email
  recipients?: string[];
  // custom action (issue 13): everything but the code's secrets
  action?: Record<string, unknown>;
  // slack
  slack?: { via: 'webhook' | 'bot'; channel: string | null; channel_name: string | null; team: string | null };
  active: boolean;
  max_in_flight: number;
  disable_after_failures: number | null;
  health: {
    state: 'healthy' | 'failing' | 'disabled';
    failure_streak: number;
    failing_since: string | null;
    disabled_at: string | null;
    disabled_reason: string | null;
  };
  created_at: string;
  updated_at: string;
}

export interface NotificationView {
  id: number;
  title: string;
  description: string;
  scope: { projects: Scope };
  triggers: Trigger[];
  active: boolean;
  origin: string;
  stage_id: number | null;
  channels: ChannelView[];
  created_by: number | null;
  created_at: string;
  updated_at: string;
}

/** Returned once, when a secret is created or rotated. */
export type WithSecret<T> = T & { secret?: string };


export interface WebhookConfig {
  url: string;
  dialect: Dialect;
  headers: Record<string, string>;
  send_payload?: boolean;
}

export interface EmailConfig {
  recipients: string[];
}

export type SlackConfig =
  | { via: 'webhook'; url: string }
  | { via: 'bot'; connection_id: number; channel_id: string; channel_name: string; team_name: string };

function kindFields(c: Selectable<ChannelTable>, ring: Keyring): Partial<ChannelView> {
  if (c.kind === 'action') return { action: JSON.parse(c.config) as Record<string, unknown> };
  if (c.kind === 'email') return { recipients: (JSON.parse(c.config) as EmailConfig).recipients };
  if (c.kind === 'slack') {
    const s = JSON.parse(c.config) as SlackConfig;
    // An incoming-webhook URL is a credential: it is not shown back.
    return { slack: s.via === 'bot' ? { via: 'bot', channel: s.channel_id, channel_name: s.channel_name, team: s.team_name } : { via: 'webhook', channel: null, channel_name: null, team: null } };
  }
  // Header values are sealed at rest; opened here only to be masked for display.
  const cfg = openConfig<WebhookConfig>(ring, c.kind, c.config);
  return { url: cfg.url, dialect: cfg.dialect, headers: maskHeaders(cfg.headers), send_payload: cfg.send_payload !== false, signed: c.secret !== null };
}

export function channelView(c: Selectable<ChannelTable>, ring: Keyring): ChannelView {
  return {
    id: c.id,
    notification: c.notification_id,
    type: c.kind,
    ...kindFields(c, ring),
    active: c.active === 1,
    max_in_flight: c.max_in_flight,
    disable_after_failures: c.disable_after_failures,
    health: {
      state: c.disabled_at !== null ? 'disabled' : c.failure_streak > 0 ? 'failing' : 'healthy',
      failure_streak: c.failure_streak,
      failing_since: isoOrNull(c.first_failure_at),
      disabled_at: isoOrNull(c.disabled_at),
      disabled_reason: c.disabled_reason,
    },
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
  };
}

const SENSITIVE = /(authorization|cookie|token|secret|password|api[-_]?key|signature)/i;

/** Header values that look like credentials are never shown back (nor kept in attempt logs). */
export function maskHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k] = SENSITIVE.test(k) && !k.toLowerCase().startsWith('webhook-') ? maskValue(v) : v;
  return out;
}

export function maskValue(v: string): string {
  return v.length <= 4 ? '****' : `${v.slice(0, 2)}****`;
}

function notificationView(n: Selectable<NotificationTable>, channels: Selectable<ChannelTable>[], ring: Keyring): NotificationView {
  return {
    id: n.id,
    title: n.title,
    description: n.description,
    scope: { projects: JSON.parse(n.scope) as Scope },
    triggers: JSON.parse(n.triggers) as Trigger[],
    active: n.active === 1,
    origin: n.origin,
    stage_id: n.stage_id,
    channels: channels.map((c) => channelView(c, ring)),
    created_by: n.created_by,
    created_at: iso(n.created_at),
    updated_at: iso(n.updated_at),
  };
}

// --- secrets (Standard Webhooks: "whsec_" + base64 of 24 to 64 random bytes)

export function generateSecret(): string {
  return 'whsec_' + crypto.randomBytes(24).toString('base64');
}

/** SuperAnnotate's secret is any string (an HMAC key); the others use Standard Webhooks'. */
function secretFor(d: Dialect, input: boolean | string | undefined): string | null {
  // A standard-dialect webhook is signed unless the caller says `secret: false` (issue 10
  // defect 6): Standard Webhooks and Svix generate a secret by default and return it once.
  // The vendor dialects keep their vendors' defaults (Label Studio never signs).
  if (input === undefined) return d === 'standard' ? generateSecret() : null;
  if (input === false) return null;
  if (d === 'superannotate') {
    if (input === true) return crypto.randomBytes(32).toString('hex');
    if (input.length < 8) throw new AppError('validation_failed', 'secret must be at least 8 characters, or true to have one generated.');
    return input;
  }
  if (input === true) return generateSecret();
  checkSecret(input);
  return input;
}

function checkSecret(secret: string): void {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  const bytes = m ? Buffer.from(m[1]!, 'base64').length : 0;
  if (bytes < 24 || bytes > 64) {
    throw new AppError('validation_failed', 'secret must be "whsec_" followed by the base64 of 24 to 64 random bytes, or true to have one generated.');
  }
}

// --- validation

export function checkUrl(ctx: Ctx, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('validation_failed', `url '${raw}' is not an absolute URL; use https://host/path.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('validation_failed', `url must use http or https, not ${url.protocol.replace(':', '')}.`);
  if (url.username || url.password) throw new AppError('validation_failed', 'url must not carry credentials; send them in a custom header (for example Authorization).');
  const why = literalRefusal(url, ctx.svc.targets);
  if (why) throw new AppError('target_not_allowed', `url ${url.host} is refused: ${why}.`);
  return url.toString();
}

export function checkHeaders(headers: Record<string, string>): Record<string, string> {
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) throw new AppError('validation_failed', `headers may have at most ${MAX_HEADERS} entries.`);
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) throw new AppError('validation_failed', `header name '${name}' may only use letters, digits, '-' and '_'.`);
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower)) throw new AppError('validation_failed', `header '${name}' is set by Labelcast itself (signatures and framing) and cannot be overridden.`);
    if (seen.has(lower)) throw new AppError('validation_failed', `header '${name}' is given twice.`);
    seen.add(lower);
    // CR, LF and NUL would let a value start a new header or request (header injection).
    if (/[\r\n\0]/.test(value)) throw new AppError('validation_failed', `header '${name}' has a line break or NUL in its value.`);
  }
  return headers;
}

async function checkScope(ctx: Ctx, scope: Scope): Promise<Scope> {
  if (scope === 'all') return scope;
  const ids = [...new Set(scope)];
  if (ids.length === 0) throw new AppError('validation_failed', 'scope.projects must be "all" or a non-empty list of project ids.');
  const found = await ctx.trx.selectFrom('projects').select('id').where('org_id', '=', ctx.actor.org_id).where('id', 'in', ids).execute();
  const missing = ids.find((id) => !found.some((f) => f.id === id));
  if (missing !== undefined) throw notFound('project', missing);
  return ids.sort((a, b) => a - b);
}

export const triggerType = (t: Trigger): string => (typeof t === 'string' ? t : 'digest' in t ? 'digest' : t.event);

function checkTriggers(triggers: Trigger[]): Trigger[] {
  const seen = new Set<string>();
  const out: Trigger[] = [];
  for (const t of triggers) {
    const key = JSON.stringify(t);
    if (seen.has(key)) continue;
    seen.add(key);
    if (typeof t !== 'string' && 'event' in t && (t.from || t.to) && !FROM_TO_TRIGGERS.has(t.event)) {
      throw new AppError('validation_failed', `triggers: from/to filters apply to ${[...FROM_TO_TRIGGERS].join(' and ')} only, not ${t.event}.`);
    }
    if (firedKind(t) === 'periodic') checkDigest(t as DigestTrigger);
    if (typeof t !== 'string' && 'digest' in t) checkDigest(t.digest);
    out.push(t);
  }
  if (out.some((t) => t === 'all') && out.some((t) => t !== 'all' && triggerType(t) !== 'digest')) {
    throw new AppError('validation_failed', 'triggers: "all" already includes every event type; list it alone (a digest may stand beside it).');
  }
  if (out.filter((t) => triggerType(t) === 'digest').length > 1) throw new AppError('validation_failed', 'triggers: at most one digest per notification.');
  return out;
}

function checkDigest(d: DigestTrigger): void {
  try {
    nextFire(d, Date.now());
  } catch (err) {
    throw new AppError('validation_failed', `triggers: the digest schedule is not valid (${(err as Error).message}); use a 5-field cron like "0 17 * * *" and an IANA time zone like "Europe/Paris".`);
  }
}

/** Every explicit trigger must be one the channel's dialect can express. */
function checkDialectTriggers(d: Dialect, triggers: Trigger[]): void {
  const dl = dialectOf(d);
  const types = triggers.flatMap((t) => {
    const fired = firedKind(t);
    if (fired) return [`pipeline.${fired}`];
    return typeof t !== 'string' && 'event' in t ? triggerSourceTypes(t) : [triggerType(t)];
  });
  const unsupported = types.filter((t) => t !== 'all' && !dl.supports(t));
  if (unsupported.length > 0) {
    throw new AppError('validation_failed', `The ${d} dialect has no message for ${unsupported.join(', ')}; remove those triggers or use the standard dialect.`);
  }
}

// --- commands

async function channelTriggers(ctx: Ctx, notificationId: number, triggers?: Trigger[]): Promise<Trigger[]> {
  if (triggers) return triggers;
  const n = await ctx.trx.selectFrom('notifications').select('triggers').where('id', '=', notificationId).executeTakeFirstOrThrow();
  return JSON.parse(n.triggers) as Trigger[];
}

export async function insertChannel(ctx: Ctx, notificationId: number, input: ChannelInput, triggers?: Trigger[]): Promise<WithSecret<ChannelView>> {
  if (input.type === 'email') return insertPlainChannel(ctx, notificationId, 'email', { recipients: checkRecipients(input.recipients) } satisfies EmailConfig, input.active, 0);
  if (input.type === 'slack') {
    await channelTriggers(ctx, notificationId, triggers);
    // Slack asks for about one message per second per channel.
    return insertPlainChannel(ctx, notificationId, 'slack', await slackConfig(ctx, input), input.active, 1000);
  }
  return insertWebhook(ctx, notificationId, input, await channelTriggers(ctx, notificationId, triggers));
}

export const MAX_RECIPIENTS = 50;

function checkRecipients(list: string[]): string[] {
  const out = [...new Set(list.map((r) => r.trim().toLowerCase()))];
  if (out.length === 0 || out.length > MAX_RECIPIENTS) throw new AppError('validation_failed', `recipients must list 1 to ${MAX_RECIPIENTS} email addresses.`);
  for (const r of out) {
    if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(r)) throw new AppError('validation_failed', `recipient '${r}' is not an email address.`);
  }
  return out;
}

async function slackConfig(ctx: Ctx, input: SlackInput): Promise<SlackConfig> {
  if ((input.webhook_url === undefined) === (input.channel === undefined)) {
    throw new AppError('validation_failed', 'A Slack channel needs either webhook_url (an incoming webhook) or channel (a channel id of a workspace you connected), not both.');
  }
  if (input.webhook_url !== undefined) return { via: 'webhook', url: checkUrl(ctx, input.webhook_url) };
  // The user's connected workspaces' channels are shared by all of that user's notifications.
  const ch = await ctx.trx
    .selectFrom('slack_channels')
    .innerJoin('slack_connections', 'slack_connections.id', 'slack_channels.connection_id')
    .select(['slack_channels.connection_id', 'slack_channels.channel_id', 'slack_channels.name', 'slack_connections.team_name'])
    .where('slack_channels.org_id', '=', ctx.actor.org_id)
    .where('slack_channels.user_id', '=', ctx.actor.user_id)
    .where('slack_channels.channel_id', '=', input.channel!)
    .executeTakeFirst();
  if (!ch) throw new AppError('validation_failed', `Slack channel ${input.channel} is not among your connected channels; connect the workspace (GET /v1/slack/install) or refresh its channels (POST /v1/slack/channels/refresh).`);
  return { via: 'bot', connection_id: ch.connection_id, channel_id: ch.channel_id, channel_name: ch.name, team_name: ch.team_name };
}

export async function insertPlainChannel(ctx: Ctx, notificationId: number, kind: 'email' | 'slack' | 'action', config: object, active: boolean | undefined, minIntervalMs: number, maxInFlight?: number): Promise<ChannelView> {
  const row = await ctx.trx
    .insertInto('channels')
    .values({
      org_id: ctx.actor.org_id,
      notification_id: notificationId,
      kind,
      config: sealConfig(ctx.svc.ring, kind, config),
      secret: null,
      previous_secret: null,
      previous_secret_until: null,
      active: active === false ? 0 : 1,
      max_in_flight: maxInFlight ?? (kind === 'slack' ? 1 : ctx.svc.delivery.maxInFlight),
      disable_after_failures: null,
      failure_streak: 0,
      first_failure_at: null,
      disabled_at: null,
      disabled_reason: null,
      created_at: ctx.now,
      updated_at: ctx.now,
      min_interval_ms: minIntervalMs,
      last_sent_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return channelView(row, ctx.svc.ring);
}

async function insertWebhook(ctx: Ctx, notificationId: number, input: WebhookInput, triggers: Trigger[]): Promise<WithSecret<ChannelView>> {
  const url = checkUrl(ctx, input.url);
  const headers = checkHeaders(input.headers ?? {});
  const d = input.dialect ?? 'standard';
  const secret = secretFor(d, input.secret);
  checkDialectTriggers(d, triggers);
  if (input.send_payload !== undefined && d !== 'label-studio') throw new AppError('validation_failed', 'send_payload applies to the label-studio dialect only.');
  const config: WebhookConfig = { url, dialect: d, headers, ...(input.send_payload === false ? { send_payload: false } : {}) };
  const row = await ctx.trx
    .insertInto('channels')
    .values({
      org_id: ctx.actor.org_id,
      notification_id: notificationId,
      kind: input.type,
      config: sealConfig(ctx.svc.ring, input.type, config),
      secret: secret === null ? null : seal(ctx.svc.ring, secret),
      previous_secret: null,
      previous_secret_until: null,
      active: input.active === false ? 0 : 1,
      max_in_flight: input.max_in_flight ?? ctx.svc.delivery.maxInFlight,
      disable_after_failures: input.disable_after_failures ?? null,
      failure_streak: 0,
      first_failure_at: null,
      disabled_at: null,
      disabled_reason: null,
      created_at: ctx.now,
      updated_at: ctx.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const view: WithSecret<ChannelView> = channelView(row, ctx.svc.ring);
  if (secret) view.secret = secret;
  return view;
}

async function loadNotification(db: Db, orgId: number, id: number) {
  const n = await db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!n) throw notFound('notification', id);
  return n;
}

async function channelsOf(db: Db, notificationIds: number[]) {
  if (notificationIds.length === 0) return [];
  return db.selectFrom('channels').selectAll().where('notification_id', 'in', notificationIds).orderBy('id').execute();
}

export interface Origin {
  origin: 'notification' | 'stage' | 'label-studio' | 'superannotate';
  stage_id?: number | null;
}

export async function createNotification(ctx: Ctx, input: NewNotification, origin: Origin = { origin: 'notification' }): Promise<NotificationView & { channels: WithSecret<ChannelView>[] }> {
  requireRole(ctx.actor, CAN.manageNotifications, 'create notifications');
  const scope = await checkScope(ctx, input.scope?.projects ?? 'all');
  const triggers = checkTriggers(input.triggers);
  const n = await ctx.trx
    .insertInto('notifications')
    .values({
      org_id: ctx.actor.org_id,
      title: input.title,
      description: input.description ?? '',
      scope: JSON.stringify(scope),
      triggers: JSON.stringify(triggers),
      active: input.active === false ? 0 : 1,
      origin: origin.origin,
      stage_id: origin.stage_id ?? null,
      created_by: ctx.actor.user_id,
      created_at: ctx.now,
      updated_at: ctx.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const channels: WithSecret<ChannelView>[] = [];
  for (const c of input.channels ?? []) channels.push(await insertChannel(ctx, n.id, c, triggers));
  return { ...notificationView(n, [], ctx.svc.ring), channels };
}

/** by: 'pipeline' when src/domain/pipelines.ts has already checked a pipeline's trigger. */
export async function updateNotification(ctx: Ctx, id: number, patch: NotificationPatch, by: 'api' | 'pipeline' = 'api'): Promise<NotificationView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  const n = await loadNotification(ctx.trx, ctx.actor.org_id, id);
  // A pipeline's trigger has its own checks (Send email's allowed triggers, the incoming
  // webhook's token, from/to filters): it changes through PATCH /v1/pipelines/{id} only.
  if (patch.triggers && n.origin === 'superannotate' && by !== 'pipeline') {
    throw new AppError('invalid_state', `Notification ${id} is a SuperAnnotate pipeline; change its trigger with PATCH /v1/pipelines/${id} {"trigger": ...}.`);
  }
  const triggers = patch.triggers ? checkTriggers(patch.triggers) : undefined;
  if (triggers) {
    for (const c of await channelsOf(ctx.trx, [id])) if (c.kind === 'webhook') checkDialectTriggers((JSON.parse(c.config) as WebhookConfig).dialect, triggers);
  }
  const row = await ctx.trx
    .updateTable('notifications')
    .set({
      title: patch.title ?? n.title,
      description: patch.description ?? n.description,
      scope: patch.scope ? JSON.stringify(await checkScope(ctx, patch.scope.projects)) : n.scope,
      triggers: triggers ? JSON.stringify(triggers) : n.triggers,
      active: patch.active === undefined ? n.active : patch.active ? 1 : 0,
      updated_at: ctx.now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return notificationView(row, await channelsOf(ctx.trx, [id]), ctx.svc.ring);
}

/** Pending work of removed channels is cancelled, not left unclaimable; history stays. */
async function cancelPending(ctx: Ctx, channelIds: number[]): Promise<void> {
  if (channelIds.length === 0) return;
  await ctx.trx
    .updateTable('deliveries')
    .set({ status: 'cancelled', last_error: 'channel deleted', lease_until: null, updated_at: ctx.now, completed_at: ctx.now })
    .where('channel_id', 'in', channelIds)
    .where('status', 'in', ['pending', 'sending'])
    .execute();
}

export async function deleteNotification(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.manageNotifications, 'delete notifications');
  await loadNotification(ctx.trx, ctx.actor.org_id, id);
  const channels = await channelsOf(ctx.trx, [id]);
  await cancelPending(ctx, channels.map((c) => c.id));
  await ctx.trx.deleteFrom('channels').where('notification_id', '=', id).execute();
  await ctx.trx.deleteFrom('notifications').where('id', '=', id).execute();
}

export async function getNotification(db: Db, ring: Keyring, orgId: number, id: number): Promise<NotificationView> {
  const n = await loadNotification(db, orgId, id);
  return notificationView(n, await channelsOf(db, [id]), ring);
}

export async function listNotifications(db: Db, ring: Keyring, orgId: number, q: PageQuery & { search?: string | undefined }): Promise<Page<NotificationView>> {
  const limit = pageLimit(q);
  let query = db.selectFrom('notifications').selectAll().where('org_id', '=', orgId).where('id', '>', decodeCursor(q.cursor));
  if (q.search) {
    query = query.where(titleContains(q.search));
  }
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  const channels = await channelsOf(db, rows.slice(0, limit).map((r) => r.id));
  return toPage(rows, limit, (n) => notificationView(n, channels.filter((c) => c.notification_id === n.id), ring));
}

export async function loadChannel(db: Db, orgId: number, id: number) {
  const c = await db.selectFrom('channels').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  if (!c) throw notFound('channel', id);
  return c;
}

export async function addChannel(ctx: Ctx, notificationId: number, input: ChannelInput): Promise<WithSecret<ChannelView>> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  await loadNotification(ctx.trx, ctx.actor.org_id, notificationId);
  return insertChannel(ctx, notificationId, input);
}

export async function getChannel(db: Db, ring: Keyring, orgId: number, id: number): Promise<ChannelView> {
  return channelView(await loadChannel(db, orgId, id), ring);
}

export async function updateChannel(ctx: Ctx, id: number, patch: ChannelPatch): Promise<ChannelView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  const c = await loadChannel(ctx.trx, ctx.actor.org_id, id);
  if (c.kind !== 'webhook' && (patch.url !== undefined || patch.headers !== undefined)) {
    throw new AppError('validation_failed', `url and headers belong to webhook channels; this is a ${c.kind} channel (delete it and add a new one to change where it sends).`);
  }
  const cfg = openConfig<WebhookConfig>(ctx.svc.ring, c.kind, c.config);
  const next: WebhookConfig = {
    ...cfg,
    url: patch.url === undefined ? cfg.url : checkUrl(ctx, patch.url),
    headers: patch.headers === undefined ? cfg.headers : checkHeaders(patch.headers),
  };
  // A new URL is a new endpoint: its health starts afresh and a disabled channel resumes
  // (Label Studio re-enables a webhook whose URL changes).
  const urlChanged = c.kind === 'webhook' && next.url !== cfg.url;
  const row = await ctx.trx
    .updateTable('channels')
    .set({
      config: c.kind === 'webhook' ? sealConfig(ctx.svc.ring, c.kind, next) : c.config,
      ...(urlChanged ? { failure_streak: 0, first_failure_at: null, disabled_at: null, disabled_reason: null } : {}),
      active: patch.active === undefined ? c.active : patch.active ? 1 : 0,
      max_in_flight: patch.max_in_flight ?? c.max_in_flight,
      disable_after_failures: patch.disable_after_failures === undefined ? c.disable_after_failures : patch.disable_after_failures,
      updated_at: ctx.now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  if (urlChanged || patch.active === true) await signalWork(ctx);
  return channelView(row, ctx.svc.ring);
}

export async function deleteChannel(ctx: Ctx, id: number): Promise<void> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  const c = await loadChannel(ctx.trx, ctx.actor.org_id, id);
  // A Label Studio webhook or SuperAnnotate pipeline is one notification with exactly one
  // channel; deleting the channel alone left a webhook its views cannot show (GET
  // /v1/webhooks answered 500; found by the fuzz test, issue 10).
  const n = await ctx.trx.selectFrom('notifications').select('origin').where('id', '=', c.notification_id).executeTakeFirst();
  if (n && (n.origin === 'label-studio' || n.origin === 'superannotate')) {
    throw new AppError('invalid_state', `Channel ${id} belongs to a ${n.origin === 'label-studio' ? 'Label Studio webhook' : 'SuperAnnotate pipeline'}; delete that (DELETE /v1/webhooks/{id}, or DELETE /v1/actions/{id} for one action of a pipeline) instead.`);
  }
  await removeChannel(ctx, id);
}

/** Deletes a channel the caller has checked may go: its pending work is cancelled first. */
export async function removeChannel(ctx: Ctx, id: number): Promise<void> {
  await cancelPending(ctx, [id]);
  await ctx.trx.deleteFrom('channels').where('id', '=', id).execute();
}

/** Re-enables a channel disabled by failures: held deliveries become due again. */
export async function enableChannel(ctx: Ctx, id: number): Promise<ChannelView> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  await loadChannel(ctx.trx, ctx.actor.org_id, id);
  const row = await ctx.trx
    .updateTable('channels')
    .set({ disabled_at: null, disabled_reason: null, failure_streak: 0, first_failure_at: null, active: 1, updated_at: ctx.now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await signalWork(ctx);
  return channelView(row, ctx.svc.ring);
}

export const SECRET_OVERLAP_MS = 24 * 3600 * 1000;

/** A new secret; the old one keeps signing alongside it for 24 hours. */
export async function rotateSecret(ctx: Ctx, id: number): Promise<WithSecret<ChannelView>> {
  requireRole(ctx.actor, CAN.manageNotifications, 'change notifications');
  const c = await loadChannel(ctx.trx, ctx.actor.org_id, id);
  const secret = generateSecret();
  const row = await ctx.trx
    .updateTable('channels')
    .set({
      secret: seal(ctx.svc.ring, secret),
      // Still sealed (under whichever key sealed it): moved as it is, never opened.
      previous_secret: c.secret,
      previous_secret_until: c.secret ? ctx.now + SECRET_OVERLAP_MS : null,
      updated_at: ctx.now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...channelView(row, ctx.svc.ring), secret };
}
