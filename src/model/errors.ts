// Every error a user can cause: a stable code, an HTTP status, and a message that says what
// to fix. The catalogue is the single source; docs/errors.md documents each code and a test
// fails when one is missing there (the way Fastify keeps lib/errors.js honest).

export const ERROR_CATALOGUE = {
  validation_failed: { status: 400, summary: 'The request body, query or path did not match the schema.' },
  invalid_json: { status: 400, summary: 'The request body is not valid JSON.' },
  json_too_deep: { status: 400, summary: 'The JSON body nests objects or arrays deeper than 64 levels.' },
  bad_request: { status: 400, summary: 'The request line or headers are malformed (bad percent-escape, wrong Content-Length).' },
  uri_too_long: { status: 414, summary: 'The URL or a path parameter is longer than the server accepts.' },
  headers_too_large: { status: 431, summary: 'The request headers are larger than the server accepts.' },
  request_timeout: { status: 408, summary: 'The client did not send the request within the server timeout.' },
  invalid_cursor: { status: 400, summary: 'The paging cursor was not one this API returned.' },
  target_not_allowed: { status: 400, summary: 'The webhook URL points at a private, loopback or reserved address and private targets are not allowed.' },
  invalid_workflow: { status: 400, summary: 'A workflow must be annotate, then at most one review, then complete.' },
  slack_not_configured: { status: 409, summary: 'Slack sign-in needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET on the server.' },
  slack_error: { status: 502, summary: 'Slack refused a request (the message says which and why).' },
  recipient_not_member: { status: 400, summary: 'A Send email action may only send to members of the organization (seed 004).' },
  email_trigger_not_allowed: { status: 400, summary: 'A Send email action cannot run on incoming-webhook, periodic or item-level triggers (seed 004).' },
  hook_unauthorized: { status: 401, summary: "The incoming webhook's X-Hook-Token header is missing or wrong." },
  unauthorized: { status: 401, summary: 'No API key, or an unknown one, was sent in Authorization: Bearer.' },
  forbidden: { status: 403, summary: "The API key's role may not do this." },
  not_found: { status: 404, summary: 'No such resource in this organization.' },
  route_not_found: { status: 404, summary: 'No such endpoint.' },
  conflict: { status: 409, summary: 'The resource already exists (for example a user with this email).' },
  invalid_state: { status: 409, summary: 'The task or label is not in a state that allows this action.' },
  stage_in_use: { status: 409, summary: 'A workflow stage that still holds tasks cannot be removed.' },
  body_too_large: { status: 413, summary: 'The request body is larger than the stated limit.' },
  unsupported_media_type: { status: 415, summary: 'Send the body as application/json.' },
  service_unavailable: { status: 503, summary: 'The database cannot take writes right now; nothing was written. Retry later.' },
  internal_error: { status: 500, summary: 'A bug; logged with the request id.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export const notFound = (what: string, id: number | string) =>
  new AppError('not_found', `${what} ${id} was not found in this organization.`);
