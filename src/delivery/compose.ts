// Email and Slack messages for a job: what they need beyond the claim's context (the events
// of an email window, the projects a digest names, the team a pipeline email is from), then
// the pure renderers of messages.ts and pipeline-email.ts.
import type { RenderContext } from '../dialects/index.js';
import type { Services } from '../domain/context.js';
import { eventFromRow } from '../domain/events.js';
import type { EmailConfig } from '../model/channel-config.js';
import type { DigestPayload } from '../model/digest.js';
import type { CanonicalEvent } from '../model/event.js';
import type { Email, SlackMessage } from '../model/messages.js';
import { projectLink } from '../model/messaging-settings.js';
import { EMAIL_EVENT_NAMES } from '../model/triggers.js';
import type { Job } from './job.js';
import { batchEmail, describeEvent, digestEmail, digestSlack, eventSlack, type DigestInput, type ProjectRef } from './messages.js';
import { pipelineEmail } from './pipeline-email.js';
import { chunks } from './prepare.js';

export async function composeEmail(svc: Services, job: Job): Promise<{ to: string[]; mail: Email }> {
  const ev = job.event;
  if (ev.type === 'email.batch') {
    const db = svc.store.db;
    const items = await db.selectFrom('email_items').select('event_id').where('batch_id', '=', job.delivery.id).orderBy('id').execute();
    const ids = [...new Set(items.map((i) => i.event_id))];
    const events: CanonicalEvent[] = [];
    for (const part of chunks(ids, 500)) events.push(...(await db.selectFrom('events').selectAll().where('id', 'in', part).orderBy('seq').execute()).map(eventFromRow));
    if (events.length === 0) throw new Error('the events of this email were pruned before it was sent');
    const projectIds = [...new Set(events.map((e) => e.project_id).filter((p): p is number => p !== null))];
    const projects = projectIds.length ? await db.selectFrom('projects').select(['id', 'title', 'project_hash']).where('id', 'in', projectIds).execute() : [];
    const refs = new Map(projects.map((p) => [p.id, projectRef(svc, p)]));
    return { to: [String(ev.data.recipient)], mail: batchEmail(events.map((e) => ({ ev: e, text: describeEvent(e, e.project_id !== null ? (refs.get(e.project_id) ?? null) : null) }))) };
  }
  const cfg = JSON.parse(job.channel.config) as EmailConfig & { format?: string };
  let mail: Email;
  if (cfg.format === 'superannotate' && ev.type !== 'ping') mail = await pipelineMail(svc, ev, job.context);
  else if (ev.type === 'digest') mail = digestEmail(await digestInput(svc, ev.data as unknown as DigestPayload));
  else if (ev.type === 'ping') mail = { subject: 'Labelcast test message', text: `${String(ev.data.message)}\n`, html: `<p>${String(ev.data.message)}</p>` };
  else mail = batchEmail([{ ev, text: eventText(svc, ev, job.context) }]);
  return { to: cfg.recipients, mail };
}

export async function composeSlack(svc: Services, job: Job): Promise<SlackMessage> {
  const ev = job.event;
  if (ev.type === 'digest') return digestSlack(await digestInput(svc, ev.data as unknown as DigestPayload));
  if (ev.type === 'ping') return { text: String(ev.data.message), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: String(ev.data.message) } }] };
  return eventSlack(eventText(svc, ev, job.context));
}

/** Seed 004's Send email body: Event, From Value, To Value, Triggered by team/project. */
async function pipelineMail(svc: Services, ev: CanonicalEvent, context: RenderContext): Promise<Email> {
  const db = svc.store.db;
  const org = await db.selectFrom('organizations').select('name').where('id', '=', ev.org_id).executeTakeFirst();
  const d = ev.data as Record<string, any>;
  let project: string | null = ev.project_id !== null ? (context.projects.get(ev.project_id)?.title ?? d.project?.title ?? null) : null;
  // A fired pipeline's message carries no event row, so its project is not in the claim's context.
  if (project === null && ev.project_id !== null) {
    project = (await db.selectFrom('projects').select('title').where('id', '=', ev.project_id).executeTakeFirst())?.title ?? null;
  }
  const ctx = (d.context ?? {}) as Record<string, unknown>;
  const manual = ev.type === 'pipeline.manual';
  const from = ev.type === 'project.status_changed' ? String(d.from) : manual && ctx.from !== undefined ? String(ctx.from) : null;
  const to = ev.type === 'project.status_changed' ? String(d.to) : manual && ctx.to !== undefined ? String(ctx.to) : null;
  return pipelineEmail({ event: EMAIL_EVENT_NAMES[ev.type] ?? ev.type, from, to, team: org?.name ?? String(ev.org_id), project });
}

function projectRef(svc: Services, p: { id: number; title: string; project_hash: string }): ProjectRef {
  return { id: p.id, title: p.title, link: projectLink(svc.messaging, p) };
}

async function digestInput(svc: Services, payload: DigestPayload): Promise<DigestInput> {
  const hashes = payload.projects_stats.map((p) => p.project_hash);
  const rows = hashes.length ? await svc.store.db.selectFrom('projects').select(['id', 'title', 'project_hash']).where('project_hash', 'in', hashes).execute() : [];
  return { title: payload.notification.title, window: payload.window, projects_stats: payload.projects_stats, projects: new Map(rows.map((r) => [r.project_hash, projectRef(svc, r)])) };
}

function eventText(svc: Services, ev: CanonicalEvent, context: RenderContext) {
  const p = ev.project_id !== null ? context.projects.get(ev.project_id) : undefined;
  return describeEvent(ev, p ? projectRef(svc, p) : null);
}
