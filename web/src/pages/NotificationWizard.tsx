// The seed's five-step creation flow (Enter details, Add projects, Add channels, Add triggers,
// Create), reused to edit. Everything typed lives in this component's state, so a failed save
// loses nothing; saving an edit applies the difference to the server's current state.
import { useEffect, useState, type Dispatch, type FormEvent, type KeyboardEvent, type SetStateAction } from 'react';
import { useNavigate, useParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { DIGEST_WHEN, REACTIVE_EVENTS } from '../events';
import { Empty, ErrorBox, InfoTip, Loading, Query, BinIcon } from '../ui';
import type { Notification } from './Notifications';

interface WebhookDraft {
  key: number;
  /** Set once it exists on the server (edit, or created by an earlier partial save). */
  id?: number;
  url: string;
}

interface Draft {
  title: string;
  description: string;
  allProjects: boolean;
  projects: number[];
  emails: string[];
  slack: string[];
  webhooks: WebhookDraft[];
  reactive: string[];
  digest: boolean;
  /** Triggers this screen does not edit (status filters, "all"): kept as they are. */
  otherTriggers: Notification['triggers'];
}

const EMPTY: Draft = { title: '', description: '', allProjects: true, projects: [], emails: [], slack: [], webhooks: [], reactive: [], digest: false, otherTriggers: [] };
const STEPS = ['Enter details', 'Add projects', 'Add channels', 'Add triggers', 'Create'] as const;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
let nextKey = 1;

function fromNotification(n: Notification): Draft {
  const reactive: string[] = [];
  const other: Notification['triggers'] = [];
  let digest = false;
  for (const t of n.triggers) {
    if (typeof t === 'string' && REACTIVE_EVENTS.some((e) => e.type === t)) reactive.push(t);
    else if (typeof t === 'object' && 'digest' in t && Object.keys(t.digest).length === 0) digest = true;
    else other.push(t);
  }
  return {
    title: n.title,
    description: n.description,
    allProjects: n.scope.projects === 'all',
    projects: n.scope.projects === 'all' ? [] : n.scope.projects,
    emails: n.channels.flatMap((c) => (c.type === 'email' ? (c.recipients ?? []) : [])),
    slack: n.channels.flatMap((c) => (c.type === 'slack' && c.slack?.channel ? [c.slack.channel] : [])),
    webhooks: n.channels.filter((c) => c.type === 'webhook').map((c) => ({ key: nextKey++, id: c.id, url: c.url ?? '' })),
    reactive,
    digest,
    otherTriggers: other,
  };
}

const triggersOf = (d: Draft) => [...d.reactive, ...(d.digest ? [{ digest: {} }] : []), ...d.otherTriggers] as never[];

export function NotificationWizard() {
  const { id } = useParams();
  const editing = id ? Number(id) : null;
  const existing = useQuery({
    queryKey: ['notification', editing],
    queryFn: () => call(api.GET('/v1/notifications/{id}', { params: { path: { id: editing! } } })),
    enabled: editing !== null,
  });
  const [draft, setDraft] = useState<Draft | null>(editing === null ? EMPTY : null);
  useEffect(() => {
    if (existing.data && draft === null) setDraft(fromNotification(existing.data));
  }, [existing.data, draft]);
  if (editing !== null && !draft) {
    return existing.error ? <ErrorBox error={existing.error} /> : <Loading what="the notification" />;
  }
  return <Steps editing={editing} draft={draft!} setDraft={setDraft as Dispatch<SetStateAction<Draft>>} />;
}

function Steps({ editing, draft, setDraft }: { editing: number | null; draft: Draft; setDraft: Dispatch<SetStateAction<Draft>> }) {
  const [step, setStep] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const navigate = useNavigate();
  const qc = useQueryClient();
  // Functional update: two fields changed before React renders again (fast typing, a paste,
  // a test filling title then description) must both be kept, not the second over a stale copy.
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const canNext = step !== 0 || draft.title.trim().length > 0;

  async function save() {
    setSaving(true);
    setError(null);
    try {
      if (editing === null) await create(draft);
      else await update(editing, draft, setDraft);
      await qc.invalidateQueries({ queryKey: ['notifications'] });
      await qc.invalidateQueries({ queryKey: ['notification', editing] });
      navigate('/notifications');
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (step < STEPS.length - 1) {
      if (canNext) setStep(step + 1);
    } else void save();
  };

  return (
    <section>
      <h1>{editing === null ? 'Create notification' : `Edit “${draft.title}”`}</h1>
      <ol className="steps" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s} aria-current={i === step ? 'step' : undefined}>
            <button type="button" className="link" onClick={() => (i <= step || draft.title.trim() ? setStep(i) : undefined)}>
              {i + 1}. {s}
            </button>
          </li>
        ))}
      </ol>
      <form onSubmit={onSubmit} className="card wizard">
        <h2>{STEPS[step]}</h2>
        {step === 0 && <Details draft={draft} set={set} />}
        {step === 1 && <ProjectsStep draft={draft} set={set} />}
        {step === 2 && <Channels draft={draft} set={set} />}
        {step === 3 && <Triggers draft={draft} set={set} />}
        {step === 4 && <Review draft={draft} />}
        <ErrorBox error={error} />
        <div className="actions">
          <button type="button" onClick={() => (step === 0 ? navigate('/notifications') : setStep(step - 1))}>{step === 0 ? 'Cancel' : 'Back'}</button>
          {step < STEPS.length - 1 ? (
            <button type="submit" className="primary" disabled={!canNext}>Next</button>
          ) : (
            <button type="submit" className="primary" disabled={saving}>{saving ? 'Saving…' : editing === null ? 'Create' : 'Save'}</button>
          )}
        </div>
      </form>
    </section>
  );
}

function Details({ draft, set }: { draft: Draft; set: (p: Partial<Draft>) => void }) {
  return (
    <>
      <label htmlFor="n-title">Title</label>
      <input id="n-title" value={draft.title} maxLength={500} required autoFocus onChange={(e) => set({ title: e.target.value })} />
      <label htmlFor="n-desc">Description (optional)</label>
      <textarea id="n-desc" value={draft.description} maxLength={10000} rows={3} onChange={(e) => set({ description: e.target.value })} />
    </>
  );
}

function ProjectsStep({ draft, set }: { draft: Draft; set: (p: Partial<Draft>) => void }) {
  const q = useQuery({ queryKey: ['projects'], queryFn: () => call(api.GET('/v1/projects', { params: { query: { limit: 200 } } })) });
  const toggle = (id: number) => set({ projects: draft.projects.includes(id) ? draft.projects.filter((p) => p !== id) : [...draft.projects, id] });
  return (
    <fieldset>
      <legend>Which projects’ events notify?</legend>
      <label className="check"><input type="checkbox" checked={draft.allProjects} onChange={(e) => set({ allProjects: e.target.checked })} /> All projects, including future ones</label>
      {!draft.allProjects && (
        <Query q={q} what="projects">
          {(page) => (page.data.length === 0 ? <Empty>No projects yet.</Empty> : (
            <div className="grid">
              {page.data.map((p) => (
                <label key={p.id} className="check"><input type="checkbox" checked={draft.projects.includes(p.id)} onChange={() => toggle(p.id)} /> {p.title}</label>
              ))}
            </div>
          ))}
        </Query>
      )}
    </fieldset>
  );
}

function Channels({ draft, set }: { draft: Draft; set: (p: Partial<Draft>) => void }) {
  return (
    <>
      <SlackGrid draft={draft} set={set} />
      <EmailChips draft={draft} set={set} />
      <WebhookList draft={draft} set={set} />
    </>
  );
}

function SlackGrid({ draft, set }: { draft: Draft; set: (p: Partial<Draft>) => void }) {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['slack-channels'], queryFn: () => call(api.GET('/v1/slack/channels')) });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const refresh = () => run(async () => {
    await call(api.POST('/v1/slack/channels/refresh'));
    await qc.invalidateQueries({ queryKey: ['slack-channels'] });
  });
  const install = () => run(async () => {
    const r = await call(api.GET('/v1/slack/install'));
    window.open(r.url, '_blank', 'noopener');
  });
  const toggle = (c: string) => set({ slack: draft.slack.includes(c) ? draft.slack.filter((x) => x !== c) : [...draft.slack, c] });
  return (
    <fieldset>
      <legend>Slack channels</legend>
      <div className="toolbar">
        <button type="button" onClick={install} disabled={busy}>Add Slack channel</button>
        <button type="button" className="icon" aria-label="Refresh Slack channels" title="Refresh" onClick={refresh} disabled={busy}>⟳</button>
      </div>
      <ErrorBox error={error} />
      <Query q={q} what="Slack channels">
        {(r) => (r.data.length === 0 ? <Empty>No Slack workspace connected. “Add Slack channel” opens Slack; refresh here when you are back.</Empty> : (
          <div className="grid">
            {r.data.map((c) => (
              <label key={c.channel} className="check"><input type="checkbox" checked={draft.slack.includes(c.channel)} onChange={() => toggle(c.channel)} /> #{c.name} <span className="muted">{c.team}</span></label>
            ))}
          </div>
        ))}
      </Query>
    </fieldset>
  );
}

function EmailChips({ draft, set }: { draft: Draft; set: (p: Partial<Draft>) => void }) {
  const [text, setText] = useState('');
  const [bad, setBad] = useState<string | null>(null);
  const add = () => {
    const parts = text.split(/[\s,;]+/).filter(Boolean);
    const invalid = parts.filter((p) => !EMAIL.test(p));
    const fresh = parts.filter((p) => EMAIL.test(p) && !draft.emails.includes(p));
    if (fresh.length) set({ emails: [...draft.emails, ...fresh] });
    setBad(invalid.length ? `Not an email address: ${invalid.join(', ')}` : null);
    setText(invalid.join(' '));
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' || e.key === ',' || e.key === ' ') {
      if (text.trim()) {
        e.preventDefault();
        add();
      } else if (e.key === 'Enter') e.preventDefault();
    } else if (e.key === 'Backspace' && !text && draft.emails.length) set({ emails: draft.emails.slice(0, -1) });
  };
  return (
    <fieldset>
      <legend>Email addresses</legend>
      <ul className="chips" aria-label="Email recipients">
        {draft.emails.map((m) => (
          <li key={m} className="chip">
            {m}
            <button type="button" className="icon" aria-label={`Remove ${m}`} onClick={() => set({ emails: draft.emails.filter((x) => x !== m) })}>×</button>
          </li>
        ))}
      </ul>
      <label htmlFor="email-entry" className="sr-only">Add email address</label>
      <input id="email-entry" type="text" inputMode="email" placeholder="name@example.com, then Enter" value={text} onChange={(e) => setText(e.target.value)} onKeyDown={onKey} onBlur={() => text.trim() && add()} />
      {bad && <p className="field-error" role="alert">{bad}</p>}
      <p className="muted">Emails are collected and sent every 5 minutes, so they may not arrive the moment an event happens.</p>
    </fieldset>
  );
}

function WebhookList({ draft, set }: { draft: Draft; set: (p: Partial<Draft>) => void }) {
  const update = (key: number, url: string) => set({ webhooks: draft.webhooks.map((w) => (w.key === key ? { ...w, url } : w)) });
  return (
    <fieldset>
      <legend>Webhooks</legend>
      <p className="muted">Each webhook belongs to this notification only: change or delete it here.</p>
      {draft.webhooks.map((w, i) => (
        <div key={w.key} className="row">
          <label htmlFor={`wh-${w.key}`} className="sr-only">Webhook URL {i + 1}</label>
          <input id={`wh-${w.key}`} type="url" placeholder="https://example.com/hook" value={w.url} onChange={(e) => update(w.key, e.target.value)} />
          <button type="button" className="icon danger" aria-label={`Delete webhook ${i + 1}`} onClick={() => set({ webhooks: draft.webhooks.filter((x) => x.key !== w.key) })}><BinIcon /></button>
        </div>
      ))}
      <button type="button" onClick={() => set({ webhooks: [...draft.webhooks, { key: nextKey++, url: '' }] })}>Add webhook</button>
    </fieldset>
  );
}

function Triggers({ draft, set }: { draft: Draft; set: (p: Partial<Draft>) => void }) {
  const toggle = (t: string) => set({ reactive: draft.reactive.includes(t) ? draft.reactive.filter((x) => x !== t) : [...draft.reactive, t] });
  return (
    <>
      <fieldset>
        <legend>Reactive events</legend>
        <p className="muted">Sent in reaction to an event.</p>
        <div className="grid">
          {REACTIVE_EVENTS.map((e) => (
            <span key={e.type} className="check">
              <label><input type="checkbox" checked={draft.reactive.includes(e.type)} onChange={() => toggle(e.type)} /> {e.label}</label>
              <InfoTip label={e.label} text={e.when} />
            </span>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Digest events</legend>
        <p className="muted">Sent at a regular time of day.</p>
        <span className="check">
          <label><input type="checkbox" checked={draft.digest} onChange={(e) => set({ digest: e.target.checked })} /> Full digest</label>
          <InfoTip label="Full digest" text={DIGEST_WHEN} />
        </span>
      </fieldset>
      {draft.otherTriggers.length > 0 && <p className="muted">Also kept as set through the API: {draft.otherTriggers.map((t) => JSON.stringify(t)).join(', ')}</p>}
    </>
  );
}

function Review({ draft }: { draft: Draft }) {
  const triggers = triggersOf(draft);
  return (
    <dl className="review">
      <dt>Title</dt><dd>{draft.title}</dd>
      {draft.description && (<><dt>Description</dt><dd>{draft.description}</dd></>)}
      <dt>Projects</dt><dd>{draft.allProjects ? 'All projects' : `${draft.projects.length} selected`}</dd>
      <dt>Channels</dt>
      <dd>
        {[...draft.emails.map((e) => `email ${e}`), ...draft.slack.map((s) => `Slack ${s}`), ...draft.webhooks.map((w) => `webhook ${w.url}`)].join(', ') || 'none yet'}
      </dd>
      <dt>Triggers</dt><dd>{triggers.length ? triggers.map((t) => (typeof t === 'string' ? t : 'Full digest')).join(', ') : <span className="field-error">Choose at least one trigger.</span>}</dd>
    </dl>
  );
}

const scopeOf = (d: Draft) => ({ projects: d.allProjects || d.projects.length === 0 ? ('all' as const) : d.projects });

async function create(d: Draft) {
  const channels = [
    ...(d.emails.length ? [{ type: 'email' as const, recipients: d.emails }] : []),
    ...d.slack.map((channel) => ({ type: 'slack' as const, channel })),
    ...d.webhooks.filter((w) => w.url.trim()).map((w) => ({ type: 'webhook' as const, url: w.url.trim() })),
  ];
  await call(api.POST('/v1/notifications', { body: { title: d.title.trim(), description: d.description, scope: scopeOf(d), triggers: triggersOf(d), channels } }));
}

/** Applies the draft to the notification as it is on the server now, step by step; each step
 * that succeeds is recorded in the draft (new webhook ids), so a retry does not repeat it. */
async function update(id: number, d: Draft, setDraft: (d: Draft) => void) {
  await call(api.PATCH('/v1/notifications/{id}', { params: { path: { id } }, body: { title: d.title.trim(), description: d.description, scope: scopeOf(d), triggers: triggersOf(d) } }));
  const now = await call(api.GET('/v1/notifications/{id}', { params: { path: { id } } }));
  const del = (cid: number) => call(api.DELETE('/v1/channels/{id}', { params: { path: { id: cid } } }));
  const add = (body: never) => call(api.POST('/v1/notifications/{id}/channels', { params: { path: { id } }, body }));

  // Email: one channel with every recipient; recipients cannot be patched, so replace it.
  const emailChannels = now.channels.filter((c) => c.type === 'email');
  const serverEmails = emailChannels.flatMap((c) => c.recipients ?? []);
  if (serverEmails.join('\n') !== d.emails.join('\n')) {
    if (d.emails.length) await add({ type: 'email', recipients: d.emails } as never);
    for (const c of emailChannels) await del(c.id);
  }
  // Slack: add the newly ticked, delete the unticked.
  const slackChannels = now.channels.filter((c) => c.type === 'slack' && c.slack?.channel);
  for (const ch of d.slack) if (!slackChannels.some((c) => c.slack?.channel === ch)) await add({ type: 'slack', channel: ch } as never);
  for (const c of slackChannels) if (!d.slack.includes(c.slack!.channel!)) await del(c.id);
  // Webhooks: created, changed and deleted in place.
  let webhooks = d.webhooks;
  for (const c of now.channels.filter((c) => c.type === 'webhook')) {
    const mine = webhooks.find((w) => w.id === c.id);
    if (!mine) await del(c.id);
    else if (mine.url.trim() !== c.url) await call(api.PATCH('/v1/channels/{id}', { params: { path: { id: c.id } }, body: { url: mine.url.trim() } }));
  }
  for (const w of webhooks) {
    if (w.id !== undefined || !w.url.trim()) continue;
    const made = await add({ type: 'webhook', url: w.url.trim() } as never);
    webhooks = webhooks.map((x) => (x.key === w.key ? { ...x, id: made.id } : x));
    setDraft({ ...d, webhooks });
  }
}
