// Encord-style stage webhooks (seeds 001, 002): webhook URLs put on a workflow's Annotate
// stage fire task_submitted_event when a task there is submitted; on the Complete stage,
// task_completed_event when a task reaches it. Each URL is a notification (origin "stage")
// scoped to the project, with the one matching trigger and an encord-dialect channel, so it
// is delivered, retried and inspected like any other.
import type { Selectable } from 'kysely';
import type { StageTable } from '../store/schema.js';
import type { Db } from '../store/db.js';
import type { Ctx } from './context.js';
import { AppError } from '../model/errors.js';
import { createNotification, deleteNotification } from './notifications.js';
import { type WebhookConfig } from '../model/channel-config.js';

export interface StageWebhookView {
  notification: number;
  url: string;
}

const STAGE_TRIGGER: Record<string, string> = { annotate: 'task.submitted', complete: 'task.completed' };

export function checkStageWebhooks(kind: string, webhooks: string[] | undefined): void {
  if (webhooks && webhooks.length > 0 && !(kind in STAGE_TRIGGER)) {
    throw new AppError('validation_failed', `Webhooks can only be added to Annotate and Complete stages, not to the ${kind} stage.`);
  }
}

export async function stageWebhooks(db: Db, stageIds: number[]): Promise<Map<number, StageWebhookView[]>> {
  const out = new Map<number, StageWebhookView[]>();
  if (stageIds.length === 0) return out;
  const rows = await db
    .selectFrom('notifications')
    .innerJoin('channels', 'channels.notification_id', 'notifications.id')
    .select(['notifications.id', 'notifications.stage_id', 'channels.config'])
    .where('notifications.origin', '=', 'stage')
    .where('notifications.stage_id', 'in', stageIds)
    .orderBy('notifications.id')
    .execute();
  for (const r of rows) {
    const list = out.get(r.stage_id!) ?? [];
    list.push({ notification: r.id, url: (JSON.parse(r.config) as WebhookConfig).url });
    out.set(r.stage_id!, list);
  }
  return out;
}

/** Makes the stage's webhooks exactly `urls`: keeps those already there, adds and removes. */
export async function syncStageWebhooks(ctx: Ctx, project: { id: number; title: string }, stage: Selectable<StageTable>, urls: string[]): Promise<void> {
  checkStageWebhooks(stage.kind, urls);
  const existing = (await stageWebhooks(ctx.trx, [stage.id])).get(stage.id) ?? [];
  const wanted = new Map(urls.map((u) => [normalize(u), u]));
  for (const w of existing) {
    if (!wanted.has(normalize(w.url))) await deleteNotification(ctx, w.notification);
    else wanted.delete(normalize(w.url));
  }
  for (const url of wanted.values()) {
    await createNotification(
      ctx,
      {
        title: `${project.title} / ${stage.title} stage webhook`,
        scope: { projects: [project.id] },
        triggers: [STAGE_TRIGGER[stage.kind]!],
        channels: [{ type: 'webhook', url, dialect: 'encord' }],
      },
      { origin: 'stage', stage_id: stage.id },
    );
  }
}

function normalize(url: string): string {
  try {
    return new URL(url).toString();
  } catch {
    return url;
  }
}

/** Removes every stage webhook of a project (the project is being deleted). */
export async function dropProjectStageWebhooks(ctx: Ctx, stageIds: number[]): Promise<void> {
  for (const list of (await stageWebhooks(ctx.trx, stageIds)).values()) {
    for (const w of list) await deleteNotification(ctx, w.notification);
  }
}
