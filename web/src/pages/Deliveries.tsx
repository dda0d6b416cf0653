// Every delivery, filtered by notification, channel, status, event type and time; one opened
// shows each attempt's request and response (headers as the API returns them: secrets masked).
// Channel actions (ping, recover failed since a time, re-enable) sit with the channel filter.
import { useState, type FormEvent } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { REACTIVE_EVENTS } from '../events';
import { Empty, ErrorBox, Query, fmtTime } from '../ui';

const STATUSES = ['pending', 'sending', 'succeeded', 'failed', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function Deliveries() {
  const [params, setParams] = useSearchParams();
  const filter = {
    notification_id: params.get('notification') ? Number(params.get('notification')) : undefined,
    channel_id: params.get('channel') ? Number(params.get('channel')) : undefined,
    status: (params.get('status') || undefined) as Status | undefined,
    event_type: params.get('event') || undefined,
    since: toIso(params.get('since') ?? ''),
    until: toIso(params.get('until') ?? ''),
  };
  const setFilter = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    if (k === 'notification') next.delete('channel');
    setParams(next, { replace: true });
  };
  const notifications = useQuery({ queryKey: ['notifications', ''], queryFn: () => call(api.GET('/v1/notifications', { params: { query: { limit: 200 } } })) });
  const q = useQuery({ queryKey: ['deliveries', filter], queryFn: () => call(api.GET('/v1/deliveries', { params: { query: { ...filter, limit: 100 } } })), placeholderData: keepPreviousData });
  const channels = notifications.data?.data.find((n) => n.id === filter.notification_id)?.channels ?? [];
  return (
    <section>
      <h1>Deliveries</h1>
      <form className="filters" aria-label="Filter deliveries" onSubmit={(e) => e.preventDefault()}>
        <div><label htmlFor="f-notification">Notification</label>
          <select id="f-notification" value={params.get('notification') ?? ''} onChange={(e) => setFilter('notification', e.target.value)}>
            <option value="">All</option>
            {notifications.data?.data.map((n) => <option key={n.id} value={n.id}>{n.title}</option>)}
          </select>
        </div>
        <div><label htmlFor="f-channel">Channel</label>
          <select id="f-channel" value={params.get('channel') ?? ''} onChange={(e) => setFilter('channel', e.target.value)} disabled={!filter.notification_id}>
            <option value="">All</option>
            {channels.map((c) => <option key={c.id} value={c.id}>{c.type} {c.url ?? c.recipients?.join(', ') ?? c.slack?.channel_name ?? ''}</option>)}
          </select>
        </div>
        <div><label htmlFor="f-status">Status</label>
          <select id="f-status" value={params.get('status') ?? ''} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="">All</option>
            {STATUSES.map((s) => <option key={s}>{s}</option>)}
          </select>
        </div>
        <div><label htmlFor="f-event">Event type</label>
          <select id="f-event" value={params.get('event') ?? ''} onChange={(e) => setFilter('event', e.target.value)}>
            <option value="">All</option>
            {[...REACTIVE_EVENTS.map((e) => e.type), 'ping', 'digest', 'email.batch'].map((t) => <option key={t}>{t}</option>)}
          </select>
        </div>
        <div><label htmlFor="f-since">Since</label><input id="f-since" type="datetime-local" value={params.get('since') ?? ''} onChange={(e) => setFilter('since', e.target.value)} /></div>
        <div><label htmlFor="f-until">Until</label><input id="f-until" type="datetime-local" value={params.get('until') ?? ''} onChange={(e) => setFilter('until', e.target.value)} /></div>
      </form>
      {filter.channel_id && <ChannelActions id={filter.channel_id} />}
      <Query q={q} what="deliveries">
        {(page) => (page.data.length === 0 ? <Empty>No deliveries match.</Empty> : (
          <table>
            <thead><tr><th>#</th><th>Event</th><th>Status</th><th>Attempts</th><th>Last</th><th>Created</th></tr></thead>
            <tbody>
              {page.data.map((d) => (
                <tr key={d.id}>
                  <td><Link to={`/deliveries/${d.id}`} aria-label={`Delivery ${d.id}`}>{d.id}</Link></td>
                  <td data-label="Event">{d.event_type}</td>
                  <td data-label="Status"><span className={`badge ${d.status}`}>{d.status}</span></td>
                  <td data-label="Attempts">{d.attempt_count}</td>
                  <td data-label="Last">{d.last_status ?? d.last_error ?? '—'}</td>
                  <td data-label="Created">{fmtTime(d.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </Query>
    </section>
  );
}

function ChannelActions({ id }: { id: number }) {
  const qc = useQueryClient();
  const ch = useQuery({ queryKey: ['channel', id], queryFn: () => call(api.GET('/v1/channels/{id}', { params: { path: { id } } })) });
  const [since, setSince] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['deliveries'] }), qc.invalidateQueries({ queryKey: ['channel', id] }), qc.invalidateQueries({ queryKey: ['notifications'] })]);
  const act = useMutation({
    mutationFn: async (what: 'ping' | 'enable' | 'recover') => {
      const path = { params: { path: { id } } };
      if (what === 'ping') return `Ping queued as delivery ${(await call(api.POST('/v1/channels/{id}/test', path))).id}.`;
      if (what === 'enable') return (await call(api.POST('/v1/channels/{id}/enable', path)), 'Channel re-enabled; held deliveries resume.');
      const r = await call(api.POST('/v1/channels/{id}/recover', { ...path, body: { since: new Date(since).toISOString() } }));
      return `${r.recovered} failed deliveries sent again.`;
    },
    onSuccess: async (msg) => {
      setDone(msg);
      await refresh();
    },
  });
  const recover = (e: FormEvent) => {
    e.preventDefault();
    act.mutate('recover');
  };
  return (
    <div className="card">
      <Query q={ch} what="the channel">
        {(c) => (
          <>
            <p>
              Channel {c.id} ({c.type}{c.url ? ` ${c.url}` : ''}): <span className={`badge ${c.health.state}`}>{c.health.state}</span>
              {c.health.disabled_reason && <span className="muted"> {c.health.disabled_reason}</span>}
            </p>
            <div className="toolbar">
              {c.type === 'webhook' && <button type="button" onClick={() => act.mutate('ping')}>Ping webhook</button>}
              {c.health.state === 'disabled' && <button type="button" className="primary" onClick={() => act.mutate('enable')}>Re-enable channel</button>}
              <form onSubmit={recover} className="row">
                <label htmlFor="recover-since">Recover failed since</label> <input id="recover-since" type="datetime-local" required value={since} onChange={(e) => setSince(e.target.value)} />
                <button type="submit">Recover</button>
              </form>
            </div>
          </>
        )}
      </Query>
      {done && !act.error && <p role="status">{done}</p>}
      <ErrorBox error={act.error} />
    </div>
  );
}

export function DeliveryDetail() {
  const id = Number(useParams().id);
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['delivery', id], queryFn: () => call(api.GET('/v1/deliveries/{id}', { params: { path: { id } } })) });
  const resend = useMutation({
    mutationFn: () => call(api.POST('/v1/deliveries/{id}/resend', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['delivery', id] }),
  });
  return (
    <section>
      <p><Link to="/deliveries">← Deliveries</Link></p>
      <Query q={q} what="the delivery">
        {(d) => (
          <>
            <div className="toolbar">
              <h1>Delivery {d.id}: {d.event_type}</h1>
              <div className="row">
                <button type="button" onClick={() => void qc.invalidateQueries({ queryKey: ['delivery', id] })}>Refresh</button>
                <button type="button" className="primary" onClick={() => resend.mutate()} disabled={resend.isPending}>Resend</button>
              </div>
            </div>
            {resend.isSuccess && <p role="status">Queued to be sent again.</p>}
            <ErrorBox error={resend.error} />
            <p>
              <span className={`badge ${d.status}`}>{d.status}</span> · {d.attempt_count} attempt(s) · created {fmtTime(d.created_at)}
              {d.next_attempt_at && <> · next attempt {fmtTime(d.next_attempt_at)}</>} · <Link to={`/deliveries?notification=${d.notification}&channel=${d.channel}`}>channel {d.channel}</Link>
            </p>
            {d.attempts.length === 0 ? <Empty>No attempt yet.</Empty> : (
              <ol className="attempts">
                {d.attempts.map((a) => (
                  <li key={a.id} className="card">
                    <h2>Attempt {a.attempt_no}: {a.outcome} {a.response_status ?? ''}</h2>
                    <p className="muted">{fmtTime(a.started_at)} · {Math.round(a.latency_ms)} ms · {a.worker}{a.error_kind && ` · ${a.error_kind}: ${a.error_message ?? ''}`}</p>
                    <div className="split">
                      <div>
                        <h3>Request</h3>
                        <p><code>POST {a.url}</code></p>
                        <Headers h={a.request_headers} label={`Attempt ${a.attempt_no} request headers`} />
                        <pre aria-label={`Attempt ${a.attempt_no} request body`}>{pretty(a.request_body)}</pre>
                      </div>
                      <div>
                        <h3>Response</h3>
                        <p>{a.response_status === null ? 'No response' : `HTTP ${a.response_status}`}</p>
                        <pre aria-label={`Attempt ${a.attempt_no} response body`}>{a.response_body ?? ''}</pre>
                      </div>
                    </div>
                  </li>
                ))}
              </ol>
            )}
          </>
        )}
      </Query>
    </section>
  );
}

function Headers({ h, label }: { h: Record<string, string>; label: string }) {
  return (
    <table className="headers" aria-label={label}>
      <tbody>{Object.entries(h).map(([k, v]) => <tr key={k}><th scope="row">{k}</th><td>{v}</td></tr>)}</tbody>
    </table>
  );
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}
