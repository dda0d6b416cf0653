// SuperAnnotate-style pipelines (/v1/pipelines): a trigger event, then a "Send webhook" action.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { REACTIVE_EVENTS } from '../events';
import { Confirm, Empty, ErrorBox, Query, BinIcon } from '../ui';
import { ProjectSelect } from './Webhooks';

export function Pipelines() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['pipelines'], queryFn: () => call(api.GET('/v1/pipelines', { params: { query: { limit: 200 } } })) });
  const [name, setName] = useState('');
  const [project, setProject] = useState('');
  const [event, setEvent] = useState('project.status_changed');
  const [url, setUrl] = useState('');
  const [secret, setSecret] = useState('');
  const [deleting, setDeleting] = useState<number | null>(null);
  const done = () => qc.invalidateQueries({ queryKey: ['pipelines'] });
  const create = useMutation({
    mutationFn: () =>
      call(api.POST('/v1/pipelines', {
        body: { name: name.trim(), project: project ? Number(project) : null, trigger: { event: event as 'task.completed' }, action: { type: 'send_webhook', request_url: url.trim(), ...(secret ? { secret } : {}) } },
      })),
    onSuccess: async () => {
      setName('');
      setUrl('');
      setSecret('');
      await done();
    },
  });
  const del = useMutation({ mutationFn: (id: number) => call(api.DELETE('/v1/pipelines/{id}', { params: { path: { id } } })), onSuccess: async () => { setDeleting(null); await done(); } });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <section>
      <h1>Pipelines</h1>
      <p className="muted">SuperAnnotate-compatible pipelines: when the trigger happens, send a webhook.</p>
      <form onSubmit={submit} className="card">
        <h2>Add pipeline</h2>
        <label htmlFor="p-name">Name</label>
        <input id="p-name" required value={name} onChange={(e) => setName(e.target.value)} />
        <label htmlFor="p-project">Project</label>
        <ProjectSelect id="p-project" value={project} onChange={setProject} />
        <label htmlFor="p-event">Trigger</label>
        <select id="p-event" value={event} onChange={(e) => setEvent(e.target.value)}>
          {REACTIVE_EVENTS.map((e) => <option key={e.type} value={e.type}>{e.label}</option>)}
        </select>
        <label htmlFor="p-url">Send webhook to</label>
        <input id="p-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/superannotate" />
        <label htmlFor="p-secret">Secret (optional, signs X-Authorization-Content-SHA256)</label>
        <input id="p-secret" type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} />
        <ErrorBox error={create.error} />
        <div className="actions"><button type="submit" className="primary" disabled={create.isPending}>Add pipeline</button></div>
      </form>
      <Query q={q} what="pipelines">
        {(page) => (page.data.length === 0 ? <Empty>No pipelines.</Empty> : (
          <table>
            <thead><tr><th>Name</th><th>Trigger</th><th>Webhook</th><th>Active</th><th><span className="sr-only">Delete</span></th></tr></thead>
            <tbody>
              {page.data.map((p) => (
                <tr key={p.id}>
                  <td>{p.name}</td>
                  <td data-label="Trigger">{p.trigger.event}</td>
                  <td data-label="Webhook"><code>{p.action.request_url}</code>{p.action.signed ? ' (signed)' : ''}</td>
                  <td data-label="Active">{p.is_active ? 'yes' : 'no'}</td>
                  <td><button type="button" className="icon danger" aria-label={`Delete pipeline ${p.name}`} onClick={() => setDeleting(p.id)}><BinIcon /></button></td>
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
