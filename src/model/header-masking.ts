// Custom header values that look like credentials are never shown back through the API nor
// kept in attempt logs: the views and the delivery log both mask them here.
const SENSITIVE = /(authorization|cookie|token|secret|password|api[-_]?key|signature)/i;

export function maskHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k] = SENSITIVE.test(k) && !k.toLowerCase().startsWith('webhook-') ? maskValue(v) : v;
  return out;
}

export function maskValue(v: string): string {
  return v.length <= 4 ? '****' : `${v.slice(0, 2)}****`;
}
