// What every transport (webhook, Slack, email, custom action) reports for one attempt, in the
// terms the attempt log and the retry policy need: status, a bounded response body, latency,
// and an error kind.

export type ErrorKind = 'timeout' | 'connection_refused' | 'connection_reset' | 'tls' | 'dns' | 'status' | 'ssrf_blocked' | 'other';

export interface SendResult {
  ok: boolean;
  status: number | null;
  responseBody: string | null;
  latencyMs: number;
  errorKind: ErrorKind | null;
  errorMessage: string | null;
  /** From Retry-After on 429 and 503, in ms. */
  retryAfterMs: number | null;
}
