// The seed's Notifications tab: "+ Create notification", a search bar filtering by title as you
// type, and the list with a gear (edit) and a red bin (delete, after confirmation).
import { useState } from 'react';
import { Link } from 'react-router';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { Confirm, Empty, Query, BinIcon, GearIcon } from '../ui';

export type Notification = Awaited<ReturnType<typeof listNotifications>>['data'][number];

const listNotifications = (search: string) => call(api.GET('/v1/notifications', { params: { query: { search: search || undefined, limit: 200 } } }));

export function channelSummary(n: Notification): string {
  if (n.channels.length === 0) return 'none';
  return n.channels
    .map((c) => (c.type === 'email' ? `email (${c.recipients?.length ?? 0})` : c.type === 'slack' ? `Slack ${c.slack?.channel_name ? '#' + c.slack.channel_name : ''}`.trim() : `webhook${c.health.state === 'disabled' ? ' (disabled)' : ''}`))
    .join(', ');
}

export function triggerSummary(n: Notification): string {
  return n.triggers.map((t) => (typeof t === 'string' ? t : 'digest' in t ? 'Full digest' : t.event)).join(', ');
}

const MANAGED_IN: Record<string, string> = { stage: '/projects', 'label-studio': '/webhooks', superannotate: '/pipelines' };

export function NotificationList() {
  const [search, setSearch] = useState('');
  const [deleting, setDeleting] = useState<Notification | null>(null);
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['notifications', search], queryFn: () => listNotifications(search), placeholderData: keepPreviousData });
  const del = useMutation({
    mutationFn: (id: number) => call(api.DELETE('/v1/notifications/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      setDeleting(null);
      void qc.invalidateQueries({ queryKey: ['notifications'] });
    },
  });
  return (
    <section>
      <div className="toolbar">
        <h1>Notifications</h1>
        <Link className="button primary" to="/notifications/new">+ Create notification</Link>
      </div>
      <label className="search">
        <span className="sr-only">Search notifications by title</span>
        <input type="search" placeholder="Search by title" value={search} onChange={(e) => setSearch(e.target.value)} />
      </label>
      <Query q={q} what="notifications">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>{search ? `No notification title contains “${search}”.` : 'No notifications yet. Create one to be told when work moves.'}</Empty>
          ) : (
            <table>
              <thead>
                <tr><th>Title</th><th>Channels</th><th>Triggers</th><th><span className="sr-only">Actions</span></th></tr>
              </thead>
              <tbody>
                {page.data.map((n) => (
                  <tr key={n.id}>
                    <td>
                      <strong>{n.title}</strong>
                      {n.description && <div className="muted">{n.description}</div>}
                      {n.origin !== 'notification' && <div className="muted">declared as {n.origin}</div>}
                    </td>
                    <td data-label="Channels">{channelSummary(n)}</td>
                    <td data-label="Triggers">{triggerSummary(n)}</td>
                    <td className="row-actions">
                      {n.origin === 'notification' ? (
                        <>
                          <Link className="button icon" to={`/notifications/${n.id}/edit`} aria-label={`Edit ${n.title}`} title="Edit"><GearIcon /></Link>
                          <button type="button" className="icon danger" aria-label={`Delete ${n.title}`} title="Delete" onClick={() => { del.reset(); setDeleting(n); }}><BinIcon /></button>
                        </>
                      ) : (
                        // Declared by a stage, a Label Studio webhook or a pipeline: changed where it was declared.
                        <Link to={MANAGED_IN[n.origin] ?? '/notifications'}>Manage</Link>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Query>
      {deleting && (
        <Confirm
          title={`Delete “${deleting.title}”?`}
          body="Its channels are deleted too and their pending deliveries are cancelled."
          confirm="Delete"
          busy={del.isPending}
          error={del.error}
          onConfirm={() => del.mutate(deleting.id)}
          onClose={() => setDeleting(null)}
        />
      )}
    </section>
  );
}
