// Connecting Slack workspaces ("Add Slack channel", seed 000): Slack OAuth v2. The user asks
// for an install URL, approves in Slack, Slack redirects to our callback with a code we
// exchange (oauth.v2.access) for a bot token; the workspace's channels are then listed with
// conversations.list and refreshed on demand. A user's connected channels are shared by all
// of that user's notifications.
import crypto from 'node:crypto';
import type { MessagingSettings } from '../model/messaging-settings.js';
import type { Store } from '../store/connect.js';
import type { Db } from '../store/db.js';
import { openOrPlain, seal } from '../store/seal.js';
import type { Actor, Services } from './context.js';

/** What the Slack flow needs of the process: the store, the Slack settings, the key ring. */
export type SlackDeps = Pick<Services, 'store' | 'messaging' | 'ring'>;
import { AppError, notFound } from '../model/errors.js';

const SCOPES = 'chat:write,channels:read,groups:read';
const STATE_TTL_MS = 10 * 60 * 1000;

async function stateKey(d: SlackDeps): Promise<Buffer> {
  const existing = await d.store.db.selectFrom('settings').select('value').where('key', '=', 'oauth_state_key').executeTakeFirst();
  if (existing) return Buffer.from(openOrPlain(d.ring, existing.value), 'base64');
  // First use: one key for every process, kept in the database, sealed (with it, a database
  // copy could forge an install link for another organization).
  await d.store.db
    .insertInto('settings')
    .values({ key: 'oauth_state_key', value: seal(d.ring, crypto.randomBytes(32).toString('base64')) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return stateKey(d);
}

function requireSlackApp(s: MessagingSettings): { clientId: string; clientSecret: string } {
  if (!s.slackClientId || !s.slackClientSecret) {
    throw new AppError('slack_not_configured', 'Slack is not set up on this server: the operator sets SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (a Slack app) first. Incoming-webhook URLs work without it.');
  }
  return { clientId: s.slackClientId, clientSecret: s.slackClientSecret };
}

export function redirectUri(s: MessagingSettings): string {
  return `${s.publicUrl}/v1/slack/oauth/callback`;
}

export async function installUrl(d: SlackDeps, actor: Actor): Promise<{ url: string; expires_at: string }> {
  const s = d.messaging;
  const { clientId } = requireSlackApp(s);
  const exp = Date.now() + STATE_TTL_MS;
  const body = Buffer.from(JSON.stringify({ o: actor.org_id, u: actor.user_id, e: exp })).toString('base64url');
  const mac = crypto.createHmac('sha256', await stateKey(d)).update(body).digest('base64url');
  const u = new URL(s.slackAuthorizeUrl);
  u.searchParams.set('client_id', clientId);
  u.searchParams.set('scope', SCOPES);
  u.searchParams.set('redirect_uri', redirectUri(s));
  u.searchParams.set('state', `${body}.${mac}`);
  return { url: u.toString(), expires_at: new Date(exp).toISOString() };
}

async function checkState(d: SlackDeps, state: string): Promise<{ org_id: number; user_id: number }> {
  const [body, mac] = state.split('.');
  const expected = body ? crypto.createHmac('sha256', await stateKey(d)).update(body).digest('base64url') : '';
  // Compare byte lengths: a multibyte state can match in characters but not in bytes, and
  // timingSafeEqual throws on unequal lengths (issue 10: a 500).
  const got = Buffer.from(mac ?? '');
  const want = Buffer.from(expected);
  if (!body || !mac || got.length !== want.length || !crypto.timingSafeEqual(got, want)) {
    throw new AppError('validation_failed', 'The Slack install link is not valid; start again from GET /v1/slack/install.');
  }
  const s = JSON.parse(Buffer.from(body, 'base64url').toString()) as { o: number; u: number; e: number };
  if (s.e < Date.now()) throw new AppError('validation_failed', 'The Slack install link has expired (10 minutes); start again from GET /v1/slack/install.');
  return { org_id: s.o, user_id: s.u };
}

async function slackApi(s: MessagingSettings, method: string, params: Record<string, string>, token?: string): Promise<any> {
  const res = await fetch(`${s.slackApiUrl}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: new URLSearchParams(params).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }))) as { ok: boolean; error?: string };
  if (!json.ok) throw new AppError('slack_error', `Slack answered ${method}: ${json.error ?? 'not ok'}.`);
  return json;
}

/** The OAuth callback: exchange the code, store the workspace, list its channels. */
export async function completeInstall(d: SlackDeps, code: string, state: string): Promise<{ team: string; channels: number }> {
  const { store, messaging: s } = d;
  const who = await checkState(d, state);
  const { clientId, clientSecret } = requireSlackApp(s);
  const access = await slackApi(s, 'oauth.v2.access', { client_id: clientId, client_secret: clientSecret, code, redirect_uri: redirectUri(s) });
  const now = Date.now();
  const teamId = String(access.team?.id ?? '');
  const values = { team_name: String(access.team?.name ?? teamId), bot_token: seal(d.ring, String(access.access_token)), bot_user_id: access.bot_user_id ?? null, scope: String(access.scope ?? ''), updated_at: now };
  await store.db
    .insertInto('slack_connections')
    .values({ org_id: who.org_id, user_id: who.user_id, team_id: teamId, created_at: now, ...values })
    .onConflict((oc) => oc.columns(['org_id', 'user_id', 'team_id']).doUpdateSet(values))
    .execute();
  const conn = await store.db.selectFrom('slack_connections').select('id').where('org_id', '=', who.org_id).where('user_id', '=', who.user_id).where('team_id', '=', teamId).executeTakeFirstOrThrow();
  const channels = await refreshConnection(d, conn.id);
  return { team: values.team_name, channels };
}

/** Re-reads a workspace's channels (the refresh icon of the seed's Slack channels grid). */
export async function refreshConnection(d: SlackDeps, connectionId: number): Promise<number> {
  const { store, messaging: s } = d;
  const conn = await store.db.selectFrom('slack_connections').selectAll().where('id', '=', connectionId).executeTakeFirstOrThrow();
  const found: { id: string; name: string; is_private: boolean }[] = [];
  let cursor = '';
  for (let page = 0; page < 50; page++) {
    const res = await slackApi(s, 'conversations.list', { types: 'public_channel,private_channel', exclude_archived: 'true', limit: '200', ...(cursor ? { cursor } : {}) }, openOrPlain(d.ring, conn.bot_token));
    found.push(...(res.channels as { id: string; name: string; is_private: boolean }[]));
    cursor = res.response_metadata?.next_cursor ?? '';
    if (!cursor) break;
  }
  const now = Date.now();
  await store.tx(async (trx) => {
    await trx.deleteFrom('slack_channels').where('connection_id', '=', connectionId).execute();
    if (found.length) {
      await trx
        .insertInto('slack_channels')
        .values(found.map((c) => ({ org_id: conn.org_id, user_id: conn.user_id, connection_id: connectionId, channel_id: c.id, name: c.name, is_private: c.is_private ? 1 : 0, refreshed_at: now })))
        .execute();
    }
  });
  return found.length;
}

export async function refreshAll(d: SlackDeps, actor: Actor): Promise<{ channels: number }> {
  const conns = await d.store.db.selectFrom('slack_connections').select('id').where('org_id', '=', actor.org_id).where('user_id', '=', actor.user_id).execute();
  let channels = 0;
  for (const c of conns) channels += await refreshConnection(d, c.id);
  return { channels };
}

export interface SlackChannelView {
  channel: string;
  name: string;
  is_private: boolean;
  team: string;
  connection: number;
  refreshed_at: string;
}

export async function listChannels(db: Db, actor: Actor): Promise<SlackChannelView[]> {
  const rows = await db
    .selectFrom('slack_channels')
    .innerJoin('slack_connections', 'slack_connections.id', 'slack_channels.connection_id')
    .select(['slack_channels.channel_id', 'slack_channels.name', 'slack_channels.is_private', 'slack_connections.team_name', 'slack_channels.connection_id', 'slack_channels.refreshed_at'])
    .where('slack_channels.org_id', '=', actor.org_id)
    .where('slack_channels.user_id', '=', actor.user_id)
    .orderBy('slack_connections.team_name')
    .orderBy('slack_channels.name')
    .execute();
  return rows.map((r) => ({ channel: r.channel_id, name: r.name, is_private: r.is_private === 1, team: r.team_name, connection: r.connection_id, refreshed_at: new Date(r.refreshed_at).toISOString() }));
}

export async function disconnect(store: Store, actor: Actor, connectionId: number): Promise<void> {
  const conn = await store.db.selectFrom('slack_connections').select('id').where('id', '=', connectionId).where('org_id', '=', actor.org_id).where('user_id', '=', actor.user_id).executeTakeFirst();
  if (!conn) throw notFound('Slack connection', connectionId);
  await store.tx(async (trx) => {
    await trx.deleteFrom('slack_channels').where('connection_id', '=', connectionId).execute();
    await trx.deleteFrom('slack_connections').where('id', '=', connectionId).execute();
  });
}
