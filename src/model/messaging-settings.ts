// Email and Slack settings (README "Configuration"; docs/notifications.md).
export interface MessagingSettings {
  /** smtp://user:pass@host:port; unset: messages go to the local outbox (GET /v1/outbox). */
  smtpUrl: string | undefined;
  emailFrom: string;
  publicUrl: string;
  /** Where a message's project link points; {project_id} and {project_hash} are replaced. */
  projectUrl: string;
  slackApiUrl: string;
  slackAuthorizeUrl: string;
  slackClientId: string | undefined;
  slackClientSecret: string | undefined;
}

export function loadMessagingSettings(env: NodeJS.ProcessEnv = process.env): MessagingSettings {
  const publicUrl = (env.LABELCAST_PUBLIC_URL || `http://localhost:${env.PORT || 8080}`).replace(/\/$/, '');
  for (const [name, v] of [['LABELCAST_PUBLIC_URL', publicUrl], ['LABELCAST_SLACK_API_URL', env.LABELCAST_SLACK_API_URL]] as const) {
    if (v && !/^https?:\/\//.test(v)) throw new Error(`${name} must be an http(s) URL`);
  }
  if (env.SMTP_URL && !/^smtps?:\/\//.test(env.SMTP_URL)) throw new Error('SMTP_URL must look like smtp://user:password@host:587 or smtps://…');
  return {
    smtpUrl: env.SMTP_URL || undefined,
    emailFrom: env.LABELCAST_EMAIL_FROM || 'Labelcast <labelcast@localhost>',
    publicUrl,
    projectUrl: env.LABELCAST_PROJECT_URL || `${publicUrl}/projects/{project_id}`,
    slackApiUrl: (env.LABELCAST_SLACK_API_URL || 'https://slack.com/api').replace(/\/$/, ''),
    slackAuthorizeUrl: env.LABELCAST_SLACK_AUTHORIZE_URL || 'https://slack.com/oauth/v2/authorize',
    slackClientId: env.SLACK_CLIENT_ID || undefined,
    slackClientSecret: env.SLACK_CLIENT_SECRET || undefined,
  };
}

export function projectLink(s: MessagingSettings, p: { id: number; project_hash?: string | undefined }): string {
  return s.projectUrl.replace('{project_id}', String(p.id)).replace('{project_hash}', p.project_hash ?? '');
}
