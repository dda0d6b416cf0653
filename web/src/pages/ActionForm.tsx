// One pipeline action's fields (issue 13): Send webhook, Send email, or a custom action with its
// language, code, custom arguments (JSON), mounted secret set, limits and TTL. The form keeps
// what was typed when the API refuses it; the caller shows the API's error.
import { useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, call } from '../api/client';
import type { Pipeline } from '../api/types';
import { ErrorBox } from '../ui';

type Action = Pipeline['actions'][number];

export interface ActionDraft {
  type: 'send_webhook' | 'send_email' | 'custom_action';
  request_url: string;
  secret: string;
  recipients: string;
  language: 'javascript' | 'python';
  code: string;
  args: string;
  secretSet: string;
  memory_mb: string;
  cpu_ms: string;
  wall_ms: string;
  ttl_s: string;
}

export const STARTER = {
  javascript: 'function handler(event, context) {\n  console.log("event", event.event);\n  return { ok: true, context };\n}\n',
  python: 'def handler(event, context):\n    print("event", event["event"])\n    return {"ok": True, "context": context}\n',
};

export const emptyDraft = (): ActionDraft => ({ type: 'custom_action', request_url: '', secret: '', recipients: '', language: 'javascript', code: STARTER.javascript, args: '{}', secretSet: '', memory_mb: '', cpu_ms: '', wall_ms: '', ttl_s: '' });

export const draftOf = (a: Action): ActionDraft => ({
  ...emptyDraft(),
  type: a.type as ActionDraft['type'],
  request_url: a.request_url ?? '',
  recipients: (a.recipients ?? []).join(', '),
  language: (a.language as ActionDraft['language']) ?? 'javascript',
  code: a.code ?? '',
  args: JSON.stringify(a.args ?? {}, null, 2),
  secretSet: a.secret ?? '',
  memory_mb: a.limits ? String(a.limits.memory_mb) : '',
  cpu_ms: a.limits ? String(a.limits.cpu_ms) : '',
  wall_ms: a.limits ? String(a.limits.wall_ms) : '',
  ttl_s: a.ttl_s !== undefined ? String(a.ttl_s) : '',
});

const num = (s: string) => (s.trim() === '' ? undefined : Number(s));

/** Parses the custom arguments; a bad JSON is the user's to fix, said before any request. */
export function parseJson(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text.trim() || '{}');
  } catch (err) {
    throw new Error(`${what} is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function limitsOf(d: ActionDraft) {
  const l = { memory_mb: num(d.memory_mb), cpu_ms: num(d.cpu_ms), wall_ms: num(d.wall_ms) };
  const set = Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined));
  return Object.keys(set).length ? set : undefined;
}

/** The body of POST /v1/pipelines/{id}/actions (and of a new pipeline's actions). */
export function toInput(d: ActionDraft) {
  if (d.type === 'send_webhook') return { type: 'send_webhook' as const, request_url: d.request_url.trim(), ...(d.secret ? { secret: d.secret } : {}) };
  if (d.type === 'send_email') return { type: 'send_email' as const, recipients: d.recipients.split(/[\s,]+/).filter(Boolean) };
  const ttl = num(d.ttl_s);
  const limits = limitsOf(d);
  return {
    type: 'custom_action' as const,
    language: d.language,
    code: d.code,
    args: parseJson(d.args, 'Custom arguments'),
    secret: d.secretSet || null,
    ...(limits ? { limits } : {}),
    ...(ttl !== undefined ? { ttl_s: ttl } : {}),
  };
}

/** The body of PATCH /v1/actions/{id}: the fields of the action's type. */
export function toPatch(d: ActionDraft) {
  const { type: _t, ...rest } = toInput(d) as Record<string, unknown>;
  delete rest.language; // fixed at creation
  if (d.type === 'send_webhook') delete rest.secret;
  return rest;
}

export function ActionFields({ idp, d, set, fixedType }: { idp: string; d: ActionDraft; set: (p: Partial<ActionDraft>) => void; fixedType?: boolean }) {
  const secrets = useQuery({ queryKey: ['secrets'], queryFn: () => call(api.GET('/v1/secrets')), enabled: d.type === 'custom_action' });
  return (
    <>
      <label htmlFor={`${idp}-type`}>Action</label>
      <select id={`${idp}-type`} value={d.type} disabled={fixedType} onChange={(e) => set({ type: e.target.value as ActionDraft['type'] })}>
        <option value="send_webhook">Send webhook</option>
        <option value="send_email">Send email</option>
        <option value="custom_action">Custom action</option>
      </select>
      {d.type === 'send_webhook' && (
        <>
          <label htmlFor={`${idp}-url`}>Send webhook to</label>
          <input id={`${idp}-url`} type="url" required value={d.request_url} onChange={(e) => set({ request_url: e.target.value })} placeholder="https://example.com/superannotate" />
          {!fixedType && (
            <>
              <label htmlFor={`${idp}-secret`}>Secret (optional, signs X-Authorization-Content-SHA256)</label>
              <input id={`${idp}-secret`} type="password" autoComplete="off" value={d.secret} onChange={(e) => set({ secret: e.target.value })} />
            </>
          )}
        </>
      )}
      {d.type === 'send_email' && (
        <>
          <label htmlFor={`${idp}-rcpt`}>Recipients (members of the organization, comma separated)</label>
          <input id={`${idp}-rcpt`} required value={d.recipients} onChange={(e) => set({ recipients: e.target.value })} />
        </>
      )}
      {d.type === 'custom_action' && (
        <>
          <label htmlFor={`${idp}-lang`}>Language</label>
          <select id={`${idp}-lang`} value={d.language} disabled={fixedType} onChange={(e) => {
            const language = e.target.value as ActionDraft['language'];
            // Swap the starter only while the user has not written their own code.
            set({ language, ...(d.code === STARTER[d.language] ? { code: STARTER[language] } : {}) });
          }}>
            <option value="javascript">JavaScript</option>
            <option value="python">Python</option>
          </select>
          <label htmlFor={`${idp}-code`}>Code (defines handler(event, context))</label>
          <textarea id={`${idp}-code`} className="code" rows={10} spellCheck={false} required value={d.code} onChange={(e) => set({ code: e.target.value })} />
          <label htmlFor={`${idp}-args`}>Custom arguments (JSON object, added to the event)</label>
          <textarea id={`${idp}-args`} className="code" rows={3} spellCheck={false} value={d.args} onChange={(e) => set({ args: e.target.value })} />
          <label htmlFor={`${idp}-set`}>Secret set to mount</label>
          <select id={`${idp}-set`} value={d.secretSet} onChange={(e) => set({ secretSet: e.target.value })}>
            <option value="">None</option>
            {secrets.data?.data.map((s) => <option key={s.id} value={s.name}>{s.name} ({s.keys.join(', ')})</option>)}
          </select>
          {secrets.error ? <ErrorBox error={secrets.error} /> : null}
          <fieldset className="limits">
            <legend>Limits (empty: the server’s defaults)</legend>
            <label htmlFor={`${idp}-mem`}>Memory (MiB)</label>
            <input id={`${idp}-mem`} type="number" min={16} max={1024} value={d.memory_mb} onChange={(e) => set({ memory_mb: e.target.value })} />
            <label htmlFor={`${idp}-cpu`}>CPU time (ms)</label>
            <input id={`${idp}-cpu`} type="number" min={100} value={d.cpu_ms} onChange={(e) => set({ cpu_ms: e.target.value })} />
            <label htmlFor={`${idp}-wall`}>Wall clock (ms)</label>
            <input id={`${idp}-wall`} type="number" min={100} value={d.wall_ms} onChange={(e) => set({ wall_ms: e.target.value })} />
            <label htmlFor={`${idp}-ttl`}>TTL (seconds a run may wait or run; default 3 h)</label>
            <input id={`${idp}-ttl`} type="number" min={1} max={10800} value={d.ttl_s} onChange={(e) => set({ ttl_s: e.target.value })} />
          </fieldset>
        </>
      )}
    </>
  );
}

/** A self-contained form around ActionFields: submit builds the body (JSON errors shown here). */
export function ActionForm({ idp, initial, fixedType, submitLabel, busy, error, onSubmit, onCancel }: { idp: string; initial: ActionDraft; fixedType?: boolean; submitLabel: string; busy: boolean; error: unknown; onSubmit: (d: ActionDraft) => void; onCancel?: () => void }) {
  const [d, setD] = useState(initial);
  const [local, setLocal] = useState<unknown>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    try {
      toInput(d);
    } catch (err) {
      setLocal(err);
      return;
    }
    setLocal(null);
    onSubmit(d);
  };
  return (
    <form onSubmit={submit} className="card">
      <ActionFields idp={idp} d={d} set={(p) => setD({ ...d, ...p })} fixedType={fixedType} />
      <ErrorBox error={local ?? error} />
      <div className="actions">
        {onCancel && <button type="button" onClick={onCancel}>Cancel</button>}
        <button type="submit" className="primary" disabled={busy}>{submitLabel}</button>
      </div>
    </form>
  );
}
