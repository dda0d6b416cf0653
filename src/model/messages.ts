// The messages that the Slack and email transports carry, as the renderers in
// delivery/messages.ts compose them.

export interface SlackMessage {
  /** The notification fallback, shown where blocks are not. */
  text: string;
  blocks: Record<string, unknown>[];
}

export interface Email {
  subject: string;
  text: string;
  html: string;
}
