// What the server log may contain (issue 10 defect 5): the Slack OAuth callback's `code`
// was written to the log with the request URL, and nothing stopped a header or body
// field holding a credential from being logged. Every logger the app builds goes through
// safeLoggerOptions, so redaction does not depend on each call site remembering it.
import type { FastifyRequest } from 'fastify';

/** Query parameters whose values are credentials or one-time grants. */
const SECRET_QUERY = /^(code|state|token|access_token|secret|key|api[-_]?key|signature|sig|password)$/i;

/** The request URL with the values of credential-bearing query parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url.slice(q + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // A malformed escape cannot name a known parameter; redact it to be safe.
      return `${name}=[redacted]`;
    }
    return SECRET_QUERY.test(decoded) && eq >= 0 ? `${name}=[redacted]` : pair;
  });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

// pino `redact` paths: headers that carry credentials, and the field names the code uses
// for secrets (webhook secret, Slack bot token, incoming-webhook URL, custom headers).
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.Authorization',
  'secret',
  'token',
  'bot_token',
  'access_token',
  'code',
  '*.secret',
  '*.token',
  '*.bot_token',
  '*.access_token',
  '*.webhook_url',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.code',
];

function serializeRequest(req: FastifyRequest): Record<string, unknown> {
  return { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** Logger options with redaction; `base` is what the caller asked for (level, stream). */
export function safeLoggerOptions(base: boolean | Record<string, unknown>): false | Record<string, unknown> {
  if (base === false) return false;
  const opts = base === true ? {} : base;
  return { ...opts, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, serializers: { req: serializeRequest } };
}
