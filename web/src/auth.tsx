// The API key lives in sessionStorage only: it is gone when the tab closes or on sign out.
import { useState, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError } from './api/client';
import { ErrorBox } from './ui';

const KEY = 'labelcast.apiKey';

export const currentKey = (): string | null => sessionStorage.getItem(KEY);
export const forgetKey = () => sessionStorage.removeItem(KEY);

async function whoAmI(key: string): Promise<{ email: string }> {
  const res = await fetch('/v1/users/me', { headers: { authorization: `Bearer ${key}` } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(body.code ?? 'http_error', body.message ?? `HTTP ${res.status}`, res.status);
  return body;
}

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const qc = useQueryClient();
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await whoAmI(key.trim());
      sessionStorage.setItem(KEY, key.trim());
      qc.clear();
      onSignedIn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <main className="signin">
      <form onSubmit={submit} className="card">
        <h1>Labelcast</h1>
        <p>Sign in with an API key. It is kept for this browser tab only.</p>
        <label htmlFor="api-key">API key</label>
        <input id="api-key" type="password" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} required autoFocus />
        <ErrorBox error={error} />
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
