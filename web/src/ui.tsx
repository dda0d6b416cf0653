// Small shared pieces: loading, empty and error states, a modal dialog, an info tip.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './api/client';

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : new ApiError('error', String((error as Error)?.message ?? error), 0);
  return (
    <div role="alert" className="error">
      <strong>{e.message}</strong> <code>{e.code}</code>
    </div>
  );
}

export const Loading = ({ what }: { what: string }) => <p role="status" className="muted">Loading {what}…</p>;
export const Empty = ({ children }: { children: ReactNode }) => <p className="empty">{children}</p>;

/** Renders the query's loading and error states, or its data through children. */
export function Query<T>({ q, what, children }: { q: { isPending: boolean; error: unknown; data: T | undefined }; what: string; children: (d: T) => ReactNode }) {
  if (q.isPending) return <Loading what={what} />;
  if (q.error) return <ErrorBox error={q.error} />;
  return <>{children(q.data as T)}</>;
}

/** A native <dialog>: focus stays inside, Escape closes. */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={id} onCancel={(e) => { e.preventDefault(); onClose(); }}>
      <h2 id={id}>{title}</h2>
      {children}
    </dialog>
  );
}

export function Confirm({ title, body, confirm, onConfirm, onClose, error, busy }: { title: string; body: ReactNode; confirm: string; onConfirm: () => void; onClose: () => void; error?: unknown; busy?: boolean }) {
  return (
    <Modal title={title} onClose={onClose}>
      <p>{body}</p>
      <ErrorBox error={error} />
      <div className="actions">
        <button type="button" onClick={onClose}>Cancel</button>
        <button type="button" className="danger" onClick={onConfirm} disabled={busy}>{confirm}</button>
      </div>
    </Modal>
  );
}

/** The seed's info icon next to an event type: says when it fires. */
export function InfoTip({ label, text }: { label: string; text: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <span className="infotip">
      <button type="button" className="icon" aria-label={`When does ${label} fire?`} aria-expanded={open} aria-controls={id} title={text} onClick={() => setOpen(!open)}>
        <InfoIcon />
      </button>
      {open && <span id={id} role="note" className="tip">{text}</span>}
    </span>
  );
}

export const fmtTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

// Inline icons: emoji glyphs depend on the system's fonts (a headless server has none).
export const BinIcon = () => (
  <svg aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
    <path d="M3 6h18M8 6V4h8v2M6 6l1 14h10l1-14M10 11v6M14 11v6" />
  </svg>
);
export const GearIcon = () => (
  <svg aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
    <circle cx="12" cy="12" r="3" />
    <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
  </svg>
);
export const InfoIcon = () => (
  <svg aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round">
    <circle cx="12" cy="12" r="10" />
    <path d="M12 16v-5M12 8h.01" />
  </svg>
);
