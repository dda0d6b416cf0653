// One pipeline: edit its name and trigger, add/edit/remove its actions, run it now (manual
// trigger, with a JSON body as the actions' context), and open each action's runs.
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import type { ActionBody, ActionPatch, Pipeline } from '../api/types';
import { Confirm, ErrorBox, Query, BinIcon } from '../ui';
import { ActionForm, draftOf, emptyDraft, parseJson, toInput, toPatch } from './ActionForm';
import { TriggerFields, actionText, toTrigger, triggerDraft, triggerText } from './Pipelines';

export function PipelineDetail() {
  const id = Number(useParams().id);
  const q = useQuery({ queryKey: ['pipeline', id], queryFn: () => call(api.GET('/v1/pipelines/{id}', { params: { path: { id } } })) });
  return (
    <section>
      <p><Link to="/pipelines">← Pipelines</Link></p>
      <Query q={q} what="the pipeline">{(p) => <PipelineEditor key={p.updated_at} p={p} />}</Query>
    </section>
  );
}

function PipelineEditor({ p }: { p: Pipeline }) {
  const qc = useQueryClient();
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['pipeline', p.id] }), qc.invalidateQueries({ queryKey: ['pipelines'] })]);
  const [name, setName] = useState(p.name);
  const [active, setActive] = useState(p.is_active);
  const [trigger, setTrigger] = useState(triggerDraft(p.trigger));
  const save = useMutation({
    mutationFn: () => call(api.PATCH('/v1/pipelines/{id}', { params: { path: { id: p.id } }, body: { name: name.trim(), is_active: active, trigger: toTrigger(trigger) } })),
    onSuccess: refresh,
  });
  const [adding, setAdding] = useState(false);
  const add = useMutation({
    mutationFn: (body: ActionBody) => call(api.POST('/v1/pipelines/{id}/actions', { params: { path: { id: p.id } }, body })),
    onSuccess: async () => { setAdding(false); await refresh(); },
  });
  const [editing, setEditing] = useState<number | null>(null);
  const edit = useMutation({
    mutationFn: ({ id, body }: { id: number; body: ActionPatch }) => call(api.PATCH('/v1/actions/{id}', { params: { path: { id } }, body })),
    onSuccess: async () => { setEditing(null); await refresh(); },
  });
  const [removing, setRemoving] = useState<number | null>(null);
  const remove = useMutation({
    mutationFn: (id: number) => call(api.DELETE('/v1/actions/{id}', { params: { path: { id } } })),
    onSuccess: async () => { setRemoving(null); await refresh(); },
  });
  const submit = (e: FormEvent) => { e.preventDefault(); save.mutate(); };
  return (
    <>
      <h1>{p.name}</h1>
      <p className="muted">Trigger: {triggerText(p.trigger)}</p>
      {p.hook && <p>Incoming webhook: <code>{p.hook.url}</code>, header <code>{p.hook.header}</code> (token starting <code>{p.hook.token_prefix}</code>)</p>}
      {p.trigger.event === 'manual' && <RunNow p={p} />}
      <form onSubmit={submit} className="card">
        <h2>Pipeline</h2>
        <label htmlFor="pe-name">Name</label>
        <input id="pe-name" required value={name} onChange={(e) => setName(e.target.value)} />
        <TriggerFields idp="pe" t={trigger} set={(x) => setTrigger({ ...trigger, ...x })} />
        <label className="check"><input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} /> Active</label>
        <ErrorBox error={save.error} />
        <div className="actions"><button type="submit" className="primary" disabled={save.isPending}>Save pipeline</button></div>
      </form>
      <h2>Actions</h2>
      <ul className="plain">
        {p.actions.map((a) => (
          <li key={a.id} className="card">
            <p><strong>{actionText(a)}</strong>{a.secret ? <> · mounts <code>{a.secret}</code></> : null}</p>
            <div className="actions">
              {a.type === 'custom_action' && <Link to={`/actions/${a.id}`}>Runs of action {a.id}</Link>}
              <button type="button" onClick={() => setEditing(editing === a.id ? null : a.id)} aria-expanded={editing === a.id}>Edit action {a.id}</button>
              <button type="button" className="icon danger" aria-label={`Remove action ${a.id}`} onClick={() => setRemoving(a.id)}><BinIcon /></button>
            </div>
            {editing === a.id && (
              <ActionForm idp={`ae${a.id}`} initial={draftOf(a)} fixedType submitLabel="Save action" busy={edit.isPending} error={edit.error}
                onSubmit={(d) => edit.mutate({ id: a.id, body: toPatch(d) as ActionPatch })} onCancel={() => setEditing(null)} />
            )}
          </li>
        ))}
      </ul>
      {adding ? (
        <ActionForm idp="an" initial={emptyDraft()} submitLabel="Add action" busy={add.isPending} error={add.error} onSubmit={(d) => add.mutate(toInput(d) as ActionBody)} onCancel={() => setAdding(false)} />
      ) : (
        <button type="button" onClick={() => setAdding(true)}>+ Add action</button>
      )}
      {removing !== null && <Confirm title="Remove this action?" body="Its pending runs are cancelled. A pipeline keeps at least one action." confirm="Remove" error={remove.error} busy={remove.isPending} onConfirm={() => remove.mutate(removing)} onClose={() => setRemoving(null)} />}
    </>
  );
}

/** Manual trigger: POST /v1/pipelines/{id}/run with a JSON body as every action's context. */
function RunNow({ p }: { p: Pipeline }) {
  const qc = useQueryClient();
  const [body, setBody] = useState('{}');
  const [local, setLocal] = useState<unknown>(null);
  const run = useMutation({
    mutationFn: (b: Record<string, unknown>) => call(api.POST('/v1/pipelines/{id}/run', { params: { path: { id: p.id } }, body: b })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['runs'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    try {
      const b = parseJson(body, 'The run body');
      setLocal(null);
      run.mutate(b);
    } catch (err) {
      setLocal(err);
    }
  };
  return (
    <form onSubmit={submit} className="card">
      <h2>Run now</h2>
      <label htmlFor="run-body">Event body (JSON object, the actions’ context)</label>
      <textarea id="run-body" className="code" rows={4} spellCheck={false} value={body} onChange={(e) => setBody(e.target.value)} />
      <ErrorBox error={local ?? run.error} />
      {run.data && <p role="status">Started {run.data.deliveries.length} run(s), event <code>{run.data.event_id}</code>.</p>}
      <div className="actions"><button type="submit" className="primary" disabled={run.isPending}>Run now</button></div>
    </form>
  );
}
