// Projects and their workflow; clicking an Annotate or Complete stage opens the seed's pop-up to
// add webhook URLs (Enter confirms each), saved explicitly with the workflow (PUT …/workflow).
import { useState, type KeyboardEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { Empty, ErrorBox, Modal, Query, BinIcon } from '../ui';

export function Projects() {
  const q = useQuery({ queryKey: ['projects'], queryFn: () => call(api.GET('/v1/projects', { params: { query: { limit: 200 } } })) });
  return (
    <section>
      <h1>Projects</h1>
      <Query q={q} what="projects">
        {(page) => (page.data.length === 0 ? <Empty>No projects yet; create them through the API (POST /v1/projects).</Empty> : (
          <table>
            <thead><tr><th>Title</th><th>Status</th><th>Tasks</th></tr></thead>
            <tbody>
              {page.data.map((p) => (
                <tr key={p.id}>
                  <td><Link to={`/projects/${p.id}`}>{p.title}</Link></td>
                  <td data-label="Status">{p.status}</td>
                  <td data-label="Tasks">{'task_number' in p ? String((p as { task_number: number }).task_number) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </Query>
    </section>
  );
}

type Workflow = Awaited<ReturnType<typeof getWorkflow>>;
type Stage = Workflow['stages'][number];
const getWorkflow = (id: number) => call(api.GET('/v1/projects/{id}/workflow', { params: { path: { id } } }));

export function ProjectDetail() {
  const id = Number(useParams().id);
  const project = useQuery({ queryKey: ['project', id], queryFn: () => call(api.GET('/v1/projects/{id}', { params: { path: { id } } })) });
  const wf = useQuery({ queryKey: ['workflow', id], queryFn: () => getWorkflow(id) });
  const [open, setOpen] = useState<Stage | null>(null);
  return (
    <section>
      <p><Link to="/projects">← Projects</Link></p>
      <h1>{project.data?.title ?? 'Project'}</h1>
      <ErrorBox error={project.error} />
      <h2>Workflow</h2>
      <p className="muted">Webhooks can be added to Annotate stages (sent when a task is submitted for review) and Complete stages (sent when a task is completed).</p>
      <Query q={wf} what="the workflow">
        {(w) => (
          <ol className="workflow">
            {w.stages.map((s) => {
              const hookable = s.kind === 'annotate' || s.kind === 'complete';
              return (
                <li key={s.id}>
                  <button type="button" className="stage" disabled={!hookable} onClick={() => setOpen(s)} aria-label={`${s.title} (${s.kind} stage)${hookable ? ': configure webhooks' : ''}`}>
                    <strong>{s.title}</strong>
                    <span className="muted">{s.kind} · {s.task_count} task(s)</span>
                    {hookable && <span>{s.webhooks.length} webhook(s)</span>}
                  </button>
                </li>
              );
            })}
          </ol>
        )}
      </Query>
      {open && wf.data && <StageWebhooks projectId={id} workflow={wf.data} stage={open} onClose={() => setOpen(null)} />}
    </section>
  );
}

function StageWebhooks({ projectId, workflow, stage, onClose }: { projectId: number; workflow: Workflow; stage: Stage; onClose: () => void }) {
  const qc = useQueryClient();
  const [urls, setUrls] = useState(stage.webhooks.map((w) => w.url));
  const [text, setText] = useState('');
  const save = useMutation({
    mutationFn: () =>
      call(api.PUT('/v1/projects/{id}/workflow', {
        params: { path: { id: projectId } },
        // The whole workflow, unchanged but for this stage's webhooks (absent elsewhere: unchanged).
        body: { stages: workflow.stages.map((s) => ({ kind: s.kind as 'annotate', title: s.title, ...(s.id === stage.id ? { webhooks: urls } : {}) })) },
      })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['workflow', projectId] });
      onClose();
    },
  });
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const u = text.trim();
    if (u && !urls.includes(u)) setUrls([...urls, u]);
    setText('');
  };
  return (
    <Modal title={`${stage.title}: webhooks`} onClose={onClose}>
      <p className="muted">{stage.kind === 'annotate' ? 'Sent as task_submitted_event when a task is submitted for review.' : 'Sent as task_completed_event when a task is completed.'}</p>
      {urls.length === 0 ? <Empty>No webhook on this stage.</Empty> : (
        <ul className="urls" aria-label="Stage webhook URLs">
          {urls.map((u) => (
            <li key={u}>
              <code>{u}</code>
              <button type="button" className="icon danger" aria-label={`Remove ${u}`} onClick={() => setUrls(urls.filter((x) => x !== u))}><BinIcon /></button>
            </li>
          ))}
        </ul>
      )}
      <label htmlFor="stage-url">Webhook URL (Enter to add)</label>
      <input id="stage-url" type="url" placeholder="https://example.com/encord" value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKey} autoFocus />
      <ErrorBox error={save.error} />
      <div className="actions">
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="button" className="primary" onClick={() => save.mutate()} disabled={save.isPending}>Save</button>
      </div>
    </Modal>
  );
}
