// The public shape of a notification and its channels (GET /v1/notifications), from their
// rows. Credentials are never shown back: Slack incoming-webhook URLs are left out, header
// values that look like credentials are masked, and a webhook says only whether it is signed.
import type { Selectable } from 'kysely';
import type { ChannelTable, NotificationTable } from '../store/schema.js';
import type { Keyring } from '../store/seal.js';
import { openConfig } from '../store/sealed.js';
import { iso, isoOrNull } from '../model/views.js';
import type { EmailConfig, SlackConfig, WebhookConfig } from '../model/channel-config.js';
import { maskHeaders } from '../model/header-masking.js';
import type { Trigger } from '../model/triggers.js';

export type Scope = 'all' | number[];

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

export function notificationView(n: Selectable<NotificationTable>, channels: Selectable<ChannelTable>[], ring: Keyring): NotificationView {
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
