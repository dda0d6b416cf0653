// What people read: subjects, plain text, HTML and Slack Block Kit for events, email
// batches and digests. Pure functions; the dispatcher passes in project titles and links.
import type { CanonicalEvent } from '../model/event.js';
import type { ProjectStats } from '../model/digest.js';
import type { Email, SlackMessage } from '../model/messages.js';

export interface ProjectRef {
  id: number;
  title: string;
  link: string;
}

export interface EventText {
  /** One line: what happened, where, by whom. */
  headline: string;
  project: ProjectRef | null;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
// Slack mrkdwn escapes only these three (api.slack.com "Formatting text").
const slackEsc = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);

export function describeEvent(ev: CanonicalEvent, project: ProjectRef | null): EventText {
  const d = ev.data as Record<string, any>;
  const by = ev.actor?.email ? ` by ${ev.actor.email}` : '';
  const where = project ? ` in "${project.title}"` : '';
  let what: string;
  switch (ev.type) {
    case 'task.submitted':
      what = `Task ${d.task.id} was submitted${d.to_stage === 'review' ? ' for review' : ''}`;
      break;
    case 'task.completed':
      what = `Task ${d.task.id} is complete`;
      break;
    case 'task.created':
      what = `${d.tasks.length} task${d.tasks.length === 1 ? ' was' : 's were'} imported`;
      break;
    case 'task.deleted':
      what = `Task ${d.tasks.map((t: { id: number }) => t.id).join(', ')} was deleted`;
      break;
    case 'annotation.created':
      what = `Label ${d.label.id} was added to task ${d.task.id}`;
      break;
    case 'annotation.updated':
      what = `Label ${d.label.id} on task ${d.task.id} was edited`;
      break;
    case 'annotation.deleted':
      what = `A label on task ${d.task.id} was deleted`;
      break;
    case 'review.accepted':
      what = `Label ${d.label.id} on task ${d.task.id} was accepted`;
      break;
    case 'review.rejected':
      what = `Label ${d.label.id} on task ${d.task.id} was rejected${d.review?.comment ? `: "${d.review.comment}"` : ''}`;
      break;
    case 'task.assigned':
      what = `Task ${d.task.id} was assigned (annotator ${d.assignee?.to ?? 'none'}, reviewer ${d.reviewer?.to ?? 'none'})`;
      break;
    case 'project.created':
      what = `Project "${d.project.title}" was created`;
      break;
    case 'project.updated':
      what = `Project "${d.project.title}" was updated (${(d.changed ?? []).join(', ')})`;
      break;
    case 'project.status_changed':
      what = `Project "${d.project.title}" went from ${d.from} to ${d.to}`;
      break;
    case 'project.deleted':
      what = `Project "${d.project.title}" was deleted`;
      break;
    default:
      what = ev.type;
  }
  const inProject = ev.type.startsWith('project.') ? '' : where;
  return { headline: `${what}${inProject}${by}`, project };
}


/** One message for one recipient and one window, listing its events in order. */
export function batchEmail(items: { ev: CanonicalEvent; text: EventText }[]): Email {
  const first = items[0]!.text;
  const subject = items.length === 1 ? first.headline : `${items.length} updates: ${first.headline}, and ${items.length - 1} more`;
  const lines = items.map(({ ev, text }) => `- ${ev.occurred_at.slice(11, 19)} UTC  ${text.headline}${text.project ? `\n    ${text.project.link}` : ''}`);
  const text = `${lines.join('\n')}\n\nYou receive this because a Labelcast notification lists your address.\n`;
  const html =
    `<ul>${items
      .map(({ ev, text }) => `<li><span style="color:#666">${esc(ev.occurred_at.slice(11, 19))} UTC</span> ${esc(text.headline)}${text.project ? ` — <a href="${esc(text.project.link)}">open the project</a>` : ''}</li>`)
      .join('')}</ul><p style="color:#666">You receive this because a Labelcast notification lists your address.</p>`;
  return { subject: subject.slice(0, 200), text, html };
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const secs = (ms: number | undefined) => (ms === undefined ? '-' : `${Math.round(ms / 100) / 10}s`);

export interface DigestInput {
  title: string;
  window: { start: string; end: string };
  projects_stats: ProjectStats[];
  projects: Map<string, ProjectRef>;
}

export function digestEmail(d: DigestInput): Email {
  const subject = `${d.title}: activity from ${d.window.start.slice(0, 16).replace('T', ' ')} to ${d.window.end.slice(0, 16).replace('T', ' ')} UTC`;
  if (d.projects_stats.length === 0) return { subject, text: 'No annotation or review activity in this period.\n', html: '<p>No annotation or review activity in this period.</p>' };
  const text: string[] = [];
  const html: string[] = [];
  const th = (cells: string[]) => `<tr>${cells.map((c) => `<th style="text-align:left;padding:4px 8px;border-bottom:1px solid #ccc">${esc(c)}</th>`).join('')}</tr>`;
  const td = (cells: string[]) => `<tr>${cells.map((c) => `<td style="padding:4px 8px">${esc(c)}</td>`).join('')}</tr>`;
  for (const p of d.projects_stats) {
    const ref = d.projects.get(p.project_hash);
    const name = ref?.title ?? p.project_hash;
    text.push(`${name}${ref ? `  ${ref.link}` : ''}`, '  Annotators: email, submitted, accepted, rejected, rejection rate, avg add, avg edit, total time');
    for (const a of p.annotator_stats) text.push(`    ${a.user_email}  ${a.submitted_labels}  ${a.accepted_labels}  ${a.rejected_labels}  ${pct(a.rejection_rate)}  ${secs(a.avg_time_for_add)}  ${secs(a.avg_time_for_edit)}  ${secs(a.total_add_or_edit_time)}`);
    text.push('  Reviewers: email, reviews, accepted, rejected, rejection rate, avg time, total time');
    for (const r of p.reviewer_stats) text.push(`    ${r.user_email}  ${r.reviews_count}  ${r.accept_count}  ${r.reject_count}  ${pct(r.rejection_rate)}  ${secs(r.average_time)}  ${secs(r.total_time)}`);
    text.push('');
    html.push(`<h3>${ref ? `<a href="${esc(ref.link)}">${esc(name)}</a>` : esc(name)}</h3>`);
    html.push(`<table style="border-collapse:collapse">${th(['Annotator', 'Submitted', 'Accepted', 'Rejected', 'Rejection rate', 'Avg add', 'Avg edit', 'Total time'])}${p.annotator_stats
      .map((a) => td([a.user_email, String(a.submitted_labels), String(a.accepted_labels), String(a.rejected_labels), pct(a.rejection_rate), secs(a.avg_time_for_add), secs(a.avg_time_for_edit), secs(a.total_add_or_edit_time)]))
      .join('')}</table>`);
    html.push(`<table style="border-collapse:collapse;margin-top:8px">${th(['Reviewer', 'Reviews', 'Accepted', 'Rejected', 'Rejection rate', 'Avg time', 'Total time'])}${p.reviewer_stats
      .map((r) => td([r.user_email, String(r.reviews_count), String(r.accept_count), String(r.reject_count), pct(r.rejection_rate), secs(r.average_time), secs(r.total_time)]))
      .join('')}</table>`);
  }
  return { subject, text: text.join('\n'), html: html.join('\n') };
}

// Slack's limits: 50 blocks per message, 3000 characters per section text.
export const SLACK_MAX_BLOCKS = 50;
export const SLACK_MAX_SECTION = 3000;


function section(mrkdwn: string): Record<string, unknown> {
  const t = mrkdwn.length > SLACK_MAX_SECTION ? mrkdwn.slice(0, SLACK_MAX_SECTION - 1) + '…' : mrkdwn;
  return { type: 'section', text: { type: 'mrkdwn', text: t } };
}

export function eventSlack(text: EventText): SlackMessage {
  const blocks: Record<string, unknown>[] = [section(slackEsc(text.headline))];
  if (text.project) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${text.project.link}|Open ${slackEsc(text.project.title)}>` }] });
  return { text: text.headline.slice(0, 3000), blocks };
}

export function digestSlack(d: DigestInput): SlackMessage {
  const header = `*${slackEsc(d.title)}* — ${d.window.start.slice(0, 16).replace('T', ' ')} to ${d.window.end.slice(0, 16).replace('T', ' ')} UTC`;
  const blocks: Record<string, unknown>[] = [section(header)];
  if (d.projects_stats.length === 0) blocks.push(section('No annotation or review activity in this period.'));
  for (const p of d.projects_stats) {
    const ref = d.projects.get(p.project_hash);
    const name = ref ? `<${ref.link}|${slackEsc(ref.title)}>` : p.project_hash;
    const ann = p.annotator_stats.map((a) => `• ${slackEsc(a.user_email)}: ${a.submitted_labels} submitted, ${a.accepted_labels} accepted, ${a.rejected_labels} rejected (${pct(a.rejection_rate)})`);
    const rev = p.reviewer_stats.map((r) => `• ${slackEsc(r.user_email)}: ${r.reviews_count} reviews, ${r.reject_count} rejected (${pct(r.rejection_rate)}), avg ${secs(r.average_time)}`);
    blocks.push({ type: 'divider' }, section(`*${name}*\n*Annotators*\n${ann.join('\n') || '—'}\n*Reviewers*\n${rev.join('\n') || '—'}`));
  }
  if (blocks.length > SLACK_MAX_BLOCKS) {
    const shown = blocks.slice(0, SLACK_MAX_BLOCKS - 1);
    shown.push(section(`…and ${d.projects_stats.length - Math.floor((SLACK_MAX_BLOCKS - 2) / 2)} more projects; see the email digest or the API.`));
    return { text: `${d.title}: ${d.projects_stats.length} projects`, blocks: shown };
  }
  return { text: `${d.title}: ${d.projects_stats.length} project${d.projects_stats.length === 1 ? '' : 's'} with activity`, blocks };
}
