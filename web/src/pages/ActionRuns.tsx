// A custom action's runs (GET /v1/actions/{id}/runs): status, started, duration, a status
// filter; one run's input (event + context), output, error/traceback and logs; rerun.
import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import type { Run } from '../api/types';
import { Empty, ErrorBox, Query, fmtTime } from '../ui';

const STATUSES = ['pending', 'running', 'succeeded', 'failed', 'expired'] as const;
type Status = (typeof STATUSES)[number];
const json = (v: unknown) => (v === undefined || v === null ? '—' : JSON.stringify(v, null, 2));
const dur = (ms: number | null) => (ms === null ? '—' : `${ms} ms`);

export function ActionRuns() {
  const id = Number(useParams().id);
  const [params, setParams] = useSearchParams();
  const status = (params.get('status') ?? '') as Status | '';
  const [open, setOpen] = useState<number | null>(null);
  const action = useQuery({ queryKey: ['action', id], queryFn: () => call(api.GET('/v1/actions/{id}', { params: { path: { id } } })) });
  const runs = useQuery({
    queryKey: ['runs', id, status],
    queryFn: () => call(api.GET('/v1/actions/{id}/runs', { params: { path: { id }, query: { limit: 100, ...(status ? { status } : {}) } } })),
    // Runs move from pending to a final status by themselves: poll while any is unfinished.
    refetchInterval: (q) => (q.state.data?.data.some((r) => r.status === 'pending' || r.status === 'running') ? 1000 : false),
  });
  return (
    <section>
      <p>{action.data ? <Link to={`/pipelines/${action.data.pipeline}`}>← Pipeline</Link> : <Link to="/pipelines">← Pipelines</Link>}</p>
      <h1>Runs of action {id}</h1>
      {action.error ? <ErrorBox error={action.error} /> : null}
      <div className="filters">
        <label htmlFor="run-status">Status</label>
        <select id="run-status" value={status} onChange={(e) => setParams(e.target.value ? { status: e.target.value } : {})}>
          <option value="">All</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <button type="button" onClick={() => runs.refetch()}>Refresh</button>
      </div>
      <Query q={runs} what="runs">
        {(page) => (page.data.length === 0 ? <Empty>No runs{status ? ` with status ${status}` : ''}.</Empty> : (
          <table>
            <thead><tr><th>Run</th><th>Status</th><th>Started</th><th>Duration</th><th>Trigger</th></tr></thead>
            <tbody>
              {page.data.map((r) => (
                <tr key={r.id}>
                  <td><button type="button" className="link" aria-expanded={open === r.id} onClick={() => setOpen(open === r.id ? null : r.id)}>Run {r.id}</button></td>
                  <td data-label="Status"><span className={`status ${r.status}`}>{r.status}</span></td>
                  <td data-label="Started">{fmtTime(r.started_at ?? r.created_at)}</td>
                  <td data-label="Duration">{dur(r.duration_ms)}</td>
                  <td data-label="Trigger">{r.trigger}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </Query>
      {open !== null && <RunDetail actionId={id} runId={open} />}
    </section>
  );
}

function RunDetail({ actionId, runId }: { actionId: number; runId: number }) {
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ['runs', actionId, 'one', runId],
    queryFn: () => call(api.GET('/v1/actions/{id}/runs/{run_id}', { params: { path: { id: actionId, run_id: runId } } })),
    refetchInterval: (x) => (x.state.data && (x.state.data.status === 'pending' || x.state.data.status === 'running') ? 1000 : false),
  });
  const rerun = useMutation({
    mutationFn: () => call(api.POST('/v1/actions/{id}/runs/{run_id}/rerun', { params: { path: { id: actionId, run_id: runId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['runs', actionId] }),
  });
  return (
    <article className="card" aria-label={`Run ${runId}`}>
      <h2>Run {runId}</h2>
      <Query q={q} what="the run">
        {(r: Run) => (
          <>
            <p>Status <strong data-testid="run-status">{r.status}</strong> · attempts {r.attempts} · created {fmtTime(r.created_at)} · finished {fmtTime(r.finished_at)} · {dur(r.duration_ms)}</p>
            <h3>Input (event and context)</h3>
            <pre data-testid="run-input">{json(r.input)}</pre>
            <h3>Output</h3>
            <pre data-testid="run-output">{json(r.output)}</pre>
            <h3>Error</h3>
            <pre data-testid="run-error">{r.error ?? '—'}</pre>
            <h3>Logs</h3>
            <pre data-testid="run-logs">{r.logs || '—'}</pre>
            <ErrorBox error={rerun.error} />
            {rerun.data && <p role="status">Rerun started: run {rerun.data.id}.</p>}
            <div className="actions">
              <button type="button" className="primary" disabled={rerun.isPending || r.status === 'pending' || r.status === 'running'} onClick={() => rerun.mutate()}>Rerun</button>
            </div>
          </>
        )}
      </Query>
    </article>
  );
}
