// Named secret sets (/v1/secrets) that custom actions mount: names and key names only; the
// values are write-only (never returned by the API, never shown after saving).
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api/client';
import { Confirm, Empty, ErrorBox, Query, BinIcon, fmtTime } from '../ui';

type Row = { key: string; value: string };

export function Secrets() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ['secrets'], queryFn: () => call(api.GET('/v1/secrets')) });
  const [name, setName] = useState('');
  const [rows, setRows] = useState<Row[]>([{ key: '', value: '' }]);
  const [deleting, setDeleting] = useState<number | null>(null);
  const done = () => qc.invalidateQueries({ queryKey: ['secrets'] });
  const create = useMutation({
    mutationFn: () => call(api.POST('/v1/secrets', { body: { name: name.trim(), values: Object.fromEntries(rows.filter((r) => r.key.trim()).map((r) => [r.key.trim(), r.value])) } })),
    onSuccess: async () => { setName(''); setRows([{ key: '', value: '' }]); await done(); },
  });
  const del = useMutation({ mutationFn: (id: number) => call(api.DELETE('/v1/secrets/{id}', { params: { path: { id } } })), onSuccess: async () => { setDeleting(null); await done(); } });
  const setRow = (i: number, p: Partial<Row>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...p } : r)));
  const submit = (e: FormEvent) => { e.preventDefault(); create.mutate(); };
  return (
    <section>
      <h1>Secret sets</h1>
      <p className="muted">Mounted into a custom action’s run as <code>secrets</code> (Python: an environment dictionary). Values are never shown after saving.</p>
      <form onSubmit={submit} className="card">
        <h2>New secret set</h2>
        <label htmlFor="s-name">Set name (letters, digits, _ . -)</label>
        <input id="s-name" required value={name} onChange={(e) => setName(e.target.value)} />
        {rows.map((r, i) => (
          <div key={i} className="pair">
            <label htmlFor={`s-key-${i}`}>Name {i + 1}</label>
            <input id={`s-key-${i}`} value={r.key} onChange={(e) => setRow(i, { key: e.target.value })} />
            <label htmlFor={`s-val-${i}`}>Value {i + 1}</label>
            <input id={`s-val-${i}`} type="password" autoComplete="off" value={r.value} onChange={(e) => setRow(i, { value: e.target.value })} />
          </div>
        ))}
        <ErrorBox error={create.error} />
        <div className="actions">
          <button type="button" onClick={() => setRows([...rows, { key: '', value: '' }])}>+ Add value</button>
          <button type="submit" className="primary" disabled={create.isPending}>Save secret set</button>
        </div>
      </form>
      <Query q={q} what="secret sets">
        {(page) => (page.data.length === 0 ? <Empty>No secret sets.</Empty> : (
          <table>
            <thead><tr><th>Name</th><th>Keys</th><th>Updated</th><th><span className="sr-only">Delete</span></th></tr></thead>
            <tbody>
              {page.data.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td data-label="Keys">{s.keys.map((k) => <code key={k}>{k} </code>)}</td>
                  <td data-label="Updated">{fmtTime(s.updated_at)}</td>
                  <td><button type="button" className="icon danger" aria-label={`Delete secret set ${s.name}`} onClick={() => setDeleting(s.id)}><BinIcon /></button></td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      </Query>
      {deleting !== null && <Confirm title="Delete this secret set?" body="Only a set no action mounts can be deleted." confirm="Delete" error={del.error} busy={del.isPending} onConfirm={() => del.mutate(deleting)} onClose={() => setDeleting(null)} />}
    </section>
  );
}
