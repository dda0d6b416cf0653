// Secrets never leave a run in clear (issue 13: "never in logs, run records or error
// messages (mask a value a handler prints)"). The pool applies this to everything a run
// returns, after the interpreter process, so a handler cannot opt out of it.

export const MASK = '********';

/**
 * Values shorter than this are not masked: replacing every "1" or "no" in a log would make it
 * unreadable while protecting nothing a guess would not find.
 */
export const MIN_MASKED_LENGTH = 4;

export type Masker = (text: string) => string;

export function masker(secrets: Record<string, string>): Masker {
  const values = [...new Set(Object.values(secrets))].filter((v) => typeof v === 'string' && v.length >= MIN_MASKED_LENGTH);
  // The JSON-escaped form too (a value with a quote or a newline printed via JSON.stringify /
  // json.dumps), longest first so a secret containing another is masked whole.
  const forms = [...new Set(values.flatMap((v) => [v, JSON.stringify(v).slice(1, -1)]))].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const f of forms) out = out.split(f).join(MASK);
    return out;
  };
}

/** Masks every string (and key) inside a JSON value. */
export function maskJson(value: unknown, mask: Masker): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((v) => maskJson(v, mask));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[mask(k)] = maskJson(v, mask);
    return out;
  }
  return value;
}

/** Cuts text to at most `limit` UTF-8 bytes, saying how much was dropped. */
export function capBytes(text: string, limit: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= limit) return text;
  // Drop a trailing partial character rather than emit U+FFFD.
  const kept = buf.subarray(0, limit).toString('utf8').replace(/\uFFFD$/, '');
  return `${kept}\n[logs truncated: ${buf.length - limit} more bytes]`;
}
