// SuperAnnotate's "Send email" action body (seed 004), plain text, exactly:
//
//   Event - "Project status updated"
//   From Value - "NotStarted"
//   To Value - "InProgress"
//   Triggered by - "MyTeam/MyProject/MyFolder"
//
// "Triggered by" is <team>/<project>[/<folder>]: the organization is the team; Labelcast
// has no folders, so the path ends at the project. From and To are "If applicable": an
// event without them keeps the line with an empty value, so every message has the same
// four lines for a reader that parses them. Pure: the dispatcher passes in the names.
import type { Email } from '../model/messages.js';

export interface PipelineEmailInput {
  /** The seed's event name, e.g. "Project status updated". */
  event: string;
  from: string | null;
  to: string | null;
  team: string;
  project: string | null;
  folder?: string | null;
}

const quoted = (v: string | null) => `"${(v ?? '').replace(/[\r\n]+/g, ' ')}"`;

export function triggeredBy(i: Pick<PipelineEmailInput, 'team' | 'project' | 'folder'>): string {
  return [i.team, i.project, i.folder].filter((x): x is string => typeof x === 'string' && x !== '').join('/');
}

export function pipelineEmail(i: PipelineEmailInput): Email {
  const where = triggeredBy(i);
  const text = [`Event - ${quoted(i.event)}`, `From Value - ${quoted(i.from)}`, `To Value - ${quoted(i.to)}`, `Triggered by - ${quoted(where)}`].join('\n') + '\n';
  // "The email is sent in plain text format": no HTML part (nodemailer omits an empty one).
  return { subject: `${i.event}: ${where}`.slice(0, 200), text, html: '' };
}
