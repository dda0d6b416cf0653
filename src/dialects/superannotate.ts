// The "superannotate" dialect: SuperAnnotate's "Send webhook" action (seed 004).
// Body {before, after, op: "c"|"u"|"d", ts_ms} with the item (a task) or the project;
// headers Accept, Content-Type, X-Event "<entity> <op>", X-Delivery (the delivery id) and,
// with a secret, X-Authorization-Content-SHA256: the hex HMAC-SHA256 of the exact body.
// SuperAnnotate sends one message per item, so an import of N tasks is N deliveries.
import crypto from 'node:crypto';
import type { ProjectView, TaskView } from '../model/views.js';
import type { Dialect, RenderInput, Rendered } from './dialect.js';
import { deriveConfig } from './label-config.js';
import { renderStandardBody } from './standard.js';

type Op = 'c' | 'u' | 'd';

const ENTITY_OPS: Record<string, ['project' | 'item', Op]> = {
  'project.created': ['project', 'c'],
  'project.updated': ['project', 'u'],
  'project.status_changed': ['project', 'u'],
  'project.deleted': ['project', 'd'],
  'task.created': ['item', 'c'],
  'task.deleted': ['item', 'd'],
  'task.submitted': ['item', 'u'],
  'task.completed': ['item', 'u'],
  'review.accepted': ['item', 'u'],
  'review.rejected': ['item', 'u'],
  'task.assigned': ['item', 'u'],
};

/** Pipelines fired by a request, the scheduler or the API (issue 13): the body is the context. */
const FIRED: Record<string, string> = {
  'pipeline.incoming_webhook': 'incoming_webhook',
  'pipeline.periodic': 'periodic',
  'pipeline.manual': 'manual',
};

/** SuperAnnotate's event name ("project c", "item u"; X-Event and a custom action's event). */
export function superannotateEventName(type: string): string {
  if (type in FIRED) return FIRED[type]!;
  const eo = ENTITY_OPS[type];
  return eo ? `${eo[0]} ${eo[1]}` : type;
}

export function hmacHex(secret: string, body: string): string {
  return crypto.createHmac('sha256', secret).update(body).digest('hex');
}

const ms = (iso: string) => Date.parse(iso);

/** A task as a SuperAnnotate item; the annotation status follows the workflow stage. */
function item(t: TaskView, input: RenderInput, over: { status?: string; approval?: string | null; annotator?: number | null; qa?: number | null } = {}): Record<string, unknown> {
  const users = input.context.users;
  const annotator = over.annotator ?? t.assignee;
  const qa = over.qa ?? t.reviewer;
  // Seed 004's example: an item nobody has labelled yet is "New".
  const status = over.status ?? (t.stage.kind === 'complete' ? 'Completed' : t.stage.kind === 'review' ? 'QualityCheck' : t.is_labeled ? 'InProgress' : 'New');
  const first = Object.values(t.data).find((v): v is string => typeof v === 'string');
  return {
    id: t.id,
    team_id: input.event.org_id,
    project_id: t.project,
    folder_id: 0,
    name: first ? (first.split('/').pop() ?? first).slice(0, 255) : `task-${t.id}`,
    annotation_status: status,
    annotator_id: annotator != null ? (users.get(annotator)?.email ?? null) : null,
    annotator_name: annotator != null ? (users.get(annotator)?.name ?? null) : null,
    qa_id: qa != null ? (users.get(qa)?.email ?? null) : null,
    qa_name: qa != null ? (users.get(qa)?.name ?? null) : null,
    createdAt: ms(t.created_at),
    updatedAt: ms(t.updated_at),
    approval_status: over.approval ?? null,
    organization_id: String(input.event.org_id),
  };
}

/** SuperAnnotate's project type, from what the labelling config annotates. */
function projectType(labelConfig: string): string {
  const kinds = new Set(Object.values(deriveConfig(labelConfig).data_types));
  if (kinds.has('Video')) return 'Video';
  if (kinds.has('Text') || kinds.has('HyperText')) return 'Text';
  return 'Vector';
}

/**
 * A project as SuperAnnotate sends it: every key of seed 004's project example, in its
 * types. Fields Labelcast has no notion of carry the values a fresh SuperAnnotate project
 * has in that example (options 0, not pinned, upload_state "Initial", no attachment or
 * custom editor); creator_id is the creator's email, as the seed shows it.
 */
function project(p: ProjectView, input: RenderInput): Record<string, unknown> {
  const creator = p.created_by != null ? (input.context.users.get(p.created_by)?.email ?? null) : null;
  return {
    id: p.id,
    name: p.title,
    type: projectType(p.label_config ?? ''),
    status: p.status,
    options: 0,
    team_id: input.event.org_id,
    createdAt: ms(p.created_at),
    deletedAt: 0,
    is_pinned: false,
    updatedAt: ms(p.updated_at),
    creator_id: creator,
    description: p.description ? p.description : null,
    upload_state: 'Initial',
    entropy_status: 'NotStarted',
    sharing_status: null,
    attachment_name: null,
    attachment_path: null,
    custom_editor_url: null,
  };
}

function bodyFor(input: RenderInput): { entity: string; op: Op; before: unknown; after: unknown } {
  const ev = input.event;
  const [entity, op] = ENTITY_OPS[ev.type]!;
  const d = ev.data as Record<string, any>;
  if (entity === 'project') {
    return {
      entity,
      op,
      before: ev.before ? project(ev.before as ProjectView, input) : null,
      after: op === 'd' ? null : project((ev.after ?? d.project) as ProjectView, input),
    };
  }
  if (ev.type === 'task.created') return { entity, op, before: null, after: item((d.tasks as TaskView[])[input.part]!, input) };
  if (ev.type === 'task.deleted') return { entity, op, before: ev.before ? item(ev.before as TaskView, input) : { id: d.tasks[input.part].id }, after: null };
  const annotator = (d.labels?.[0]?.completed_by ?? d.label?.completed_by ?? null) as number | null;
  if (ev.type === 'review.accepted' || ev.type === 'review.rejected') {
    const qa = d.review.reviewer as number;
    const rejected = ev.type === 'review.rejected';
    return {
      entity,
      op,
      before: item(d.task as TaskView, input, { status: 'QualityCheck', annotator, qa }),
      after: item(d.task as TaskView, input, { status: rejected ? 'Returned' : undefined, approval: rejected ? 'Disapproved' : 'Approved', annotator, qa }),
    };
  }
  return { entity, op, before: ev.before ? item(ev.before as TaskView, input, { annotator }) : null, after: item((ev.after ?? d.task) as TaskView, input, { annotator }) };
}

export const superannotate: Dialect = {
  name: 'superannotate',
  supports: (type) => type in ENTITY_OPS || type in FIRED || type === 'ping',
  parts: (ev: { type: string; data: Record<string, unknown> }) => (ev.type === 'task.created' || ev.type === 'task.deleted' ? Math.max(1, (ev.data.tasks as unknown[]).length) : 1),
  render(input): Rendered {
    let body: string;
    let xEvent: string;
    if (input.event.type === 'ping') {
      body = renderStandardBody(input.event);
      xEvent = 'ping';
    } else if (input.event.type in FIRED) {
      // An incoming webhook's JSON body, a manual run's custom body, or a periodic firing.
      body = JSON.stringify(input.event.data.context ?? {});
      xEvent = FIRED[input.event.type]!;
    } else {
      const b = bodyFor(input);
      body = JSON.stringify({ before: b.before, after: b.after, op: b.op, ts_ms: ms(input.event.occurred_at) });
      xEvent = `${b.entity} ${b.op}`;
    }
    const headers: Record<string, string> = {
      Accept: 'application/json;charset=UTF-8',
      'Content-Type': 'application/json',
      'X-Event': xEvent,
      'X-Delivery': String(input.deliveryId),
    };
    if (input.secrets[0]) headers['X-Authorization-Content-SHA256'] = hmacHex(input.secrets[0], body);
    return { body, headers };
  },
};
