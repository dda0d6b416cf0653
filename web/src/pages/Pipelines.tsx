// SuperAnnotate-style pipelines (/v1/pipelines, issue 13): a trigger (an entity event with
// from/to, an incoming webhook, a periodic cron, or manual) runs one or more actions.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import type { Pipeline, NewPipeline, ActionBody } from '../api/types';
import { REACTIVE_EVENTS } from '../events';
import { Confirm, Empty, ErrorBox, Query, BinIcon, GearIcon } from '../ui';
import { ProjectSelect } from './Webhooks';
import { ActionFields, emptyDraft, toInput, type ActionDraft } from './ActionForm';



export const TRIGGER_KINDS = [
  ...REACTIVE_EVENTS.map((e) => ({ value: e.type, label: e.label })),
  { value: 'task.annotation_status_changed', label: 'Annotation status updated' },
  { value: 'incoming_webhook', label: 'Incoming webhook' },
  { value: 'periodic', label: 'Periodic (cron)' },
  { value: 'manual', label: 'Manual (run now)' },
];
const FROM_TO = new Set(['project.status_changed', 'task.annotation_status_changed']);

export interface TriggerDraft { event: string; from: string; to: string; cron: string; tz: string }
export const triggerDraft = (t?: Pipeline['trigger']): TriggerDraft => ({ event: t?.event ?? 'manual', from: (t?.from ?? []).join(', '), to: (t?.to ?? []).join(', '), cron: t?.cron ?? '', tz: t?.tz ?? '' });
const list = (s: string) => s.split(',').map((v) => v.trim()).filter(Boolean);
export function toTrigger(t: TriggerDraft) {
  const out: { event: string; from?: string[]; to?: string[]; cron?: string; tz?: string } = { event: t.event };
  if (FROM_TO.has(t.event)) {
    if (list(t.from).length) out.from = list(t.from);
    if (list(t.to).length) out.to = list(t.to);
  }
  if (t.event === 'periodic') {
    out.cron = t.cron.trim();
    if (t.tz.trim()) out.tz = t.tz.trim();
  }
  return out as NewPipeline['trigger'];
}

export function TriggerFields({ idp, t, set }: { idp: string; t: TriggerDraft; set: (p: Partial<TriggerDraft>) => void }) {
  return (
    <>
      <label htmlFor={`${idp}-event`}>Trigger</label>
      <select id={`${idp}-event`} value={t.event} onChange={(e) => set({ event: e.target.value })}>
        {TRIGGER_KINDS.map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}
      </select>
      {FROM_TO.has(t.event) && (
        <>
          <label htmlFor={`${idp}-from`}>From values (optional, comma separated)</label>
          <input id={`${idp}-from`} value={t.from} onChange={(e) => set({ from: e.target.value })} />
          <label htmlFor={`${idp}-to`}>To values (optional, comma separated)</label>
          <input id={`${idp}-to`} value={t.to} onChange={(e) => set({ to: e.target.value })} />
        </>
      )}
      {t.event === 'periodic' && (
        <>
          <label htmlFor={`${idp}-cron`}>Cron schedule (5 fields)</label>
          <input id={`${idp}-cron`} required value={t.cron} onChange={(e) => set({ cron: e.target.value })} placeholder="0 9 * * 1-5" />
          <label htmlFor={`${idp}-tz`}>Time zone (IANA, default UTC)</label>
          <input id={`${idp}-tz`} value={t.tz} onChange={(e) => set({ tz: e.target.value })} placeholder="Europe/Berlin" />
        </>
      )}
      {t.event === 'incoming_webhook' && <p className="muted">A URL and a token are created with the pipeline; the token is shown once.</p>}
    </>
  );
}

export const triggerText = (t: Pipeline['trigger']) =>
  [TRIGGER_KINDS.find((k) => k.value === t.event)?.label ?? t.event, t.from?.length ? `from ${t.from.join('/')}` : '', t.to?.length ? `to ${t.to.join('/')}` : '', t.cron ? `${t.cron} ${t.tz ?? 'UTC'}` : ''].filter(Boolean).join(' ');

const ACTION_LABEL: Record<string, string> = { send_webhook: 'Send webhook', send_email: 'Send email', custom_action: 'Custom action' };
export const actionText = (a: Pipeline['actions'][number]) =>
  `${ACTION_LABEL[a.type] ?? a.type}${a.request_url ? ` → ${a.request_url}` : ''}${a.recipients ? ` → ${a.recipients.join(', ')}` : ''}${a.language ? ` (${a.language === 'python' ? 'Python' : 'JavaScript'})` : ''}${a.is_active ? '' : ' (inactive)'}`;

/** The incoming webhook's URL and token, right after creation: the token is never shown again. */
export function HookToken({ p }: { p: Pipeline }) {
  if (!p.hook || !p.hook_token) return null;
  return (
    <div className="card" role="status" aria-label="Incoming webhook credentials">
      <h2>Incoming webhook for {p.name}</h2>
      <p>POST JSON to <code>{p.hook.url}</code> with the header <code>{p.hook.header}: <span data-testid="hook-token">{p.hook_token}</span></code></p>
      <p className="muted">Copy the token now: it is shown this once.</p>
    </div>
  );
}

export function Pipelines() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['pipelines'], queryFn: () => call(api.GET('/v1/pipelines', { params: { query: { limit: 200 } } })) });
  const [name, setName] = useState('');
  const [project, setProject] = useState('');
  const [trigger, setTrigger] = useState(triggerDraft());
  const [action, setAction] = useState<ActionDraft>(emptyDraft());
  const [local, setLocal] = useState<unknown>(null);
  const [created, setCreated] = useState<Pipeline | null>(null);
  const [deleting, setDeleting] = useState<number | null>(null);
  const done = () => qc.invalidateQueries({ queryKey: ['pipelines'] });
  const create = useMutation({
    mutationFn: (body: NewPipeline) => call(api.POST('/v1/pipelines', { body })),
    onSuccess: async (p) => {
      // Cleared only on success: a refused create keeps everything typed.
      setName('');
      setTrigger(triggerDraft());
      setAction(emptyDraft());
      setCreated(p);
      await done();
    },
  });
  const del = useMutation({ mutationFn: (id: number) => call(api.DELETE('/v1/pipelines/{id}', { params: { path: { id } } })), onSuccess: async () => { setDeleting(null); await done(); } });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    let a;
    try {
      a = toInput(action);
    } catch (err) {
      setLocal(err);
      return;
    }
    setLocal(null);
    create.mutate({ name: name.trim(), project: project ? Number(project) : null, trigger: toTrigger(trigger), actions: [a as ActionBody] });
  };
  return (
    <section>
      <h1>Pipelines</h1>
      <p className="muted">SuperAnnotate-compatible pipelines: when the trigger happens, run the actions. <Link to="/secrets">Secret sets</Link> hold values custom actions mount.</p>
      {created && <HookToken p={created} />}
      <form onSubmit={submit} className="card">
        <h2>Add pipeline</h2>
        <label htmlFor="p-name">Name</label>
        <input id="p-name" required value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="p-project">Project</label>
        <ProjectSelect id="p-project" value={project} onChange={setProject} />
        <TriggerFields idp="p" t={trigger} set={(p) => setTrigger({ ...trigger, ...p })} />
        <h3>First action</h3>
        <ActionFields idp="pa" d={action} set={(p) => setAction({ ...action, ...p })} />
        <ErrorBox error={local ?? create.error} />
        <div className="actions"><button type="submit" className="primary" disabled={create.isPending}>Add pipeline</button></div>
      </form>
      <Query q={q} what="pipelines">
        {(page) => (page.data.length === 0 ? <Empty>No pipelines.</Empty> : (
          <table>
            <thead><tr><th>Name</th><th>Trigger</th><th>Actions</th><th>Active</th><th><span className="sr-only">Edit or delete</span></th></tr></thead>
            <tbody>
              {page.data.map((p) => (
                <tr key={p.id}>
                  <td><Link to={`/pipelines/${p.id}`}>{p.name}</Link></td>
                  <td data-label="Trigger">{triggerText(p.trigger)}</td>
                  <td data-label="Actions"><ul className="plain">{p.actions.map((a) => <li key={a.id}>{actionText(a)}</li>)}</ul></td>
                  <td data-label="Active">{p.is_active ? 'yes' : 'no'}</td>
                  <td>
                    <Link className="icon" to={`/pipelines/${p.id}`} aria-label={`Edit pipeline ${p.name}`}><GearIcon /></Link>
                    <button type="button" className="icon danger" aria-label={`Delete pipeline ${p.name}`} onClick={() => setDeleting(p.id)}><BinIcon /></button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </Query>
      {deleting !== null && <Confirm title="Delete this pipeline?" body="Its pending deliveries are cancelled." confirm="Delete" error={del.error} busy={del.isPending} onConfirm={() => del.mutate(deleting)} onClose={() => setDeleting(null)} />}
    </section>
  );
}
