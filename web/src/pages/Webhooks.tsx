// Label Studio-style webhooks (/v1/webhooks): URL, project or organization, which actions,
// payload or not; toggled active and deleted in place.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { Confirm, Empty, ErrorBox, Query, BinIcon } from '../ui';

const LS_ACTIONS = ['TASKS_CREATED', 'TASK_CREATED', 'TASKS_DELETED', 'ANNOTATION_CREATED', 'ANNOTATIONS_CREATED', 'ANNOTATION_UPDATED', 'ANNOTATIONS_DELETED', 'PROJECT_CREATED', 'PROJECT_UPDATED', 'PROJECT_DELETED'] as const;
type LsAction = (typeof LS_ACTIONS)[number];

export function ProjectSelect({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  const q = useQuery({ queryKey: ['projects'], queryFn: () => call(api.GET('/v1/projects', { params: { query: { limit: 200 } } })) });
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="">Whole organization</option>
      {q.data?.data.map((p) => <option key={p.id} value={p.id}>{p.title}</option>)}
    </select>
  );
}

export function Webhooks() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['ls-webhooks'], queryFn: () => call(api.GET('/v1/webhooks', { params: { query: { limit: 200 } } })) });
  const [url, setUrl] = useState('');
  const [project, setProject] = useState('');
  const [all, setAll] = useState(true);
  const [actions, setActions] = useState<LsAction[]>([]);
  const [sendPayload, setSendPayload] = useState(true);
  const [deleting, setDeleting] = useState<number | null>(null);
  const done = () => qc.invalidateQueries({ queryKey: ['ls-webhooks'] });
  const create = useMutation({
    mutationFn: () => call(api.POST('/v1/webhooks', { body: { url: url.trim(), project: project ? Number(project) : null, send_for_all_actions: all, actions: all ? [] : actions, send_payload: sendPayload } })),
    onSuccess: async () => {
      setUrl('');
      await done();
    },
  });
  const toggle = useMutation({ mutationFn: (w: { id: number; is_active: boolean }) => call(api.PATCH('/v1/webhooks/{id}', { params: { path: { id: w.id } }, body: { is_active: !w.is_active } })), onSuccess: done });
  const del = useMutation({ mutationFn: (id: number) => call(api.DELETE('/v1/webhooks/{id}', { params: { path: { id } } })), onSuccess: async () => { setDeleting(null); await done(); } });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <section>
      <h1>Webhooks</h1>
      <p className="muted">Label Studio-compatible webhooks: each request carries an <code>action</code> and the Label Studio payload.</p>
      <form onSubmit={submit} className="card">
        <h2>Add webhook</h2>
        <label htmlFor="ls-url">URL</label>
        <input id="ls-url" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/label-studio" />
        <label htmlFor="ls-project">Project</label>
        <ProjectSelect id="ls-project" value={project} onChange={setProject} />
        <label className="check"><input type="checkbox" checked={sendPayload} onChange={(e) => setSendPayload(e.target.checked)} /> Send payload</label>
        <label className="check"><input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> Send for all actions</label>
        {!all && (
          <fieldset>
            <legend>Actions</legend>
            <div className="grid">
              {LS_ACTIONS.map((a) => (
                <label key={a} className="check"><input type="checkbox" checked={actions.includes(a)} onChange={() => setActions(actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a])} /> {a}</label>
              ))}
            </div>
          </fieldset>
        )}
        <ErrorBox error={create.error} />
        <div className="actions"><button type="submit" className="primary" disabled={create.isPending}>Add webhook</button></div>
      </form>
      <ErrorBox error={toggle.error} />
      <Query q={q} what="webhooks">
        {(page) => (page.data.length === 0 ? <Empty>No Label Studio webhooks.</Empty> : (
          <table>
            <thead><tr><th>URL</th><th>Project</th><th>Actions</th><th>Active</th><th><span className="sr-only">Delete</span></th></tr></thead>
            <tbody>
              {page.data.map((w) => (
                <tr key={w.id}>
                  <td><code>{w.url}</code></td>
                  <td data-label="Project">{w.project ?? 'organization'}</td>
                  <td data-label="Actions">{w.send_for_all_actions ? 'all' : w.actions.join(', ')}</td>
                  <td data-label="Active"><label className="check"><input type="checkbox" checked={w.is_active} onChange={() => toggle.mutate(w)} /> <span className="sr-only">Active: {w.url}</span></label></td>
                  <td><button type="button" className="icon danger" aria-label={`Delete webhook ${w.url}`} onClick={() => setDeleting(w.id)}><BinIcon /></button></td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </Query>
      {deleting !== null && <Confirm title="Delete this webhook?" body="Its pending deliveries are cancelled." confirm="Delete" error={del.error} busy={del.isPending} onConfirm={() => del.mutate(deleting)} onClose={() => setDeleting(null)} />}
    </section>
  );
}
