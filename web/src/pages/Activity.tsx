// An operator's glance: deliveries per minute by outcome and the due backlog, a notification's
// digest preview, and the email outbox (where emails go when no SMTP server is configured).
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { Empty, Query, fmtTime } from '../ui';
import { ActivityChart } from './ActivityChart';

export function Activity() {
  return (
    <section>
      <h1>Activity</h1>
      <ActivityChart />
      <DigestPreview />
      <Outbox />
    </section>
  );
}

function DigestPreview() {
  const notifications = useQuery({ queryKey: ['notifications', ''], queryFn: () => call(api.GET('/v1/notifications', { params: { query: { limit: 200 } } })) });
  const [id, setId] = useState('');
  const q = useQuery({ queryKey: ['digest', id], queryFn: () => call(api.GET('/v1/notifications/{id}/digest', { params: { path: { id: Number(id) } } })), enabled: id !== '' });
  return (
    <div className="card">
      <h2>Digest preview</h2>
      <label htmlFor="digest-n">Notification</label>
      <select id="digest-n" value={id} onChange={(e) => setId(e.target.value)}>
        <option value="">Choose…</option>
        {notifications.data?.data.map((n) => <option key={n.id} value={n.id}>{n.title}</option>)}
      </select>
      {id && (
        <Query q={q} what="the digest">
          {(d) => (
            <>
              <p className="muted">From {fmtTime(d.window.start)} to {fmtTime(d.window.end)}</p>
              {d.projects_stats.length === 0 ? <Empty>No activity in this window.</Empty> : <pre aria-label="Digest">{JSON.stringify(d.projects_stats, null, 2)}</pre>}
            </>
          )}
        </Query>
      )}
    </div>
  );
}

function Outbox() {
  const q = useQuery({ queryKey: ['outbox'], queryFn: () => call(api.GET('/v1/outbox', { params: { query: { limit: 100 } } })) });
  return (
    <div className="card">
      <h2>Email outbox</h2>
      <p className="muted">With no SMTP_URL set, emails are kept here instead of sent.</p>
      <Query q={q} what="the outbox">
        {(page) => (page.data.length === 0 ? <Empty>The outbox is empty.</Empty> : (
          <ul className="outbox">
            {page.data.map((m) => (
              <li key={m.id}>
                <details>
                  <summary>{fmtTime(m.created_at)} · {m.recipients.join(', ')} · {m.subject}</summary>
                  <pre>{m.text}</pre>
                </details>
              </li>
            ))}
          </ul>
        ))}
      </Query>
    </div>
  );
}
