// The "encord" dialect: Encord's webhook envelope (seeds 000, 001, 002).
//   { uid, version: 1, source: "Encord", event_type, event_created_timestamp, payload }
// event_created_timestamp is ISO 8601 with microseconds and an offset, as in the seed's
// "2024-03-25T15:18:55.406529+00:00". Encord sends webhooks only for tasks submitted on an
// Annotate stage and tasks reaching the Complete stage (and the daily digest).
import type { Dialect, RenderInput, Rendered } from './dialect.js';
import { renderStandardBody, standardHeaders } from './standard.js';

const TYPES: Record<string, string> = {
  'task.submitted': 'task_submitted_event',
  'task.completed': 'task_completed_event',
  digest: 'digest_event',
};

/** "2026-11-23T07:01:20.799Z" -> "2026-11-23T07:01:20.799000+00:00" */
export function encordTimestamp(iso: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return iso;
  return `${m[1]}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}+00:00`;
}

function projectHash(input: RenderInput): string {
  const ev = input.event;
  const fromContext = ev.project_id !== null ? input.context.projects.get(ev.project_id)?.project_hash : undefined;
  return fromContext ?? String((ev.data.project_hash as string | undefined) ?? '');
}

export const encord: Dialect = {
  name: 'encord',
  supports: (type) => type in TYPES || type === 'ping',
  parts: () => 1,
  render(input): Rendered {
    const { event } = input;
    let body: string;
    if (event.type === 'ping') body = renderStandardBody(event);
    else {
      const task = event.data.task as { data_hash: string };
      const labels = (event.data.labels as { label_hash: string }[] | undefined) ?? [];
      const payload =
        event.type === 'digest'
          ? { projects_stats: event.data.projects_stats }
          : event.type === 'task.submitted'
          ? { project_hash: projectHash(input), data_hashes: [task.data_hash], label_hashes: labels.map((l) => l.label_hash) }
          : { label_hash: labels[0]?.label_hash ?? null, project_hash: projectHash(input), data_hash: task.data_hash };
      body = JSON.stringify({
        uid: event.id,
        version: 1,
        source: input.encordSource,
        event_type: TYPES[event.type],
        event_created_timestamp: encordTimestamp(event.occurred_at),
        payload,
      });
    }
    // Encord receivers read no signature; with a secret, Standard Webhooks headers are added
    // so a receiver can verify the sender anyway.
    return { body, headers: { 'content-type': 'application/json', ...(input.secrets.length ? standardHeaders(event.id, input.sentAt, body, input.secrets) : {}) } };
  },
};
