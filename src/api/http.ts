// The HTTP edge shared by the app and its routes: the Api type, the public error shape and the
// translation of every thrown or parser error into it, and the connection timeouts.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Socket } from 'node:net';
import type { Actor } from '../domain/context.js';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../model/errors.js';
import { storeFailure } from '../store/failures.js';
import { describeValidation } from './validation.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
}

export type Api = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>;

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface HttpTimeouts {
  /** Whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** Headers must arrive within this (slowloris). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A socket with no activity at all is closed after this. */
  connectionTimeoutMs: number;
  /** How often Node checks the request and headers timeouts. */
  checkIntervalMs: number;
}

// Node's own defaults (300 s request, 60 s headers, checked every 30 s) let a slow client
// hold a socket for minutes (issue 10 defect 8); these bound it to seconds.
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  connectionTimeoutMs: 60_000,
  checkIntervalMs: 1_000,
};

/** Errors raised by Node's HTTP parser before Fastify sees a request, in our shape. */
export function clientErrorResponse(err: NodeJS.ErrnoException): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers_too_large', message: 'The request headers are larger than the server accepts; send fewer or shorter headers.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'The request did not arrive within the server timeout; send it again on a new connection.' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { code: 'bad_request', message: 'The Content-Length header is not valid for this request; send the body length in bytes.' };
    default:
      return { code: 'bad_request', message: 'The request line or headers are malformed; check the URL and headers.' };
  }
}

export function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (err.code === 'ECONNRESET')) {
    socket.destroy();
    return;
  }
  const { code, message } = clientErrorResponse(err);
  const body = JSON.stringify(errorBody(code, message));
  const status = ERROR_CATALOGUE[code].status;
  socket.end(`HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function errorBody(code: ErrorCode, message: string, details?: unknown) {
  const status = ERROR_CATALOGUE[code].status;
  return details === undefined ? { code, message, status } : { code, message, status, details };
}

/** Translates any thrown error into the public error shape, never leaking internals. */
export function toErrorBody(err: FastifyError | AppError | Error, req: FastifyRequest) {
  if (err instanceof AppError) return errorBody(err.code, err.message, err.details);
  const fe = err as FastifyError;
  if (fe.validation) {
    const part = fe.validationContext ?? 'request';
    return errorBody('validation_failed', describeValidation(fe.validation as never, part), fe.validation.map((v) => ({ path: part + v.instancePath.replace(/\//g, '.'), message: v.message })));
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errorBody('body_too_large', `The request body is larger than ${req.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT} bytes; send fewer items per request.`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errorBody('unsupported_media_type', `Content-Type ${req.headers['content-type'] ?? '(none)'} is not accepted; send application/json.`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errorBody('invalid_json', 'The body is empty but Content-Type is application/json; send a JSON document or no Content-Type.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errorBody('invalid_json', `The body is not valid JSON: ${fe.message}`);
  }
  if (fe.statusCode === 400 && err instanceof SyntaxError) return errorBody('invalid_json', `The body is not valid JSON: ${err.message}`);
  const stored = storeFailure(err);
  if (stored) return errorBody(stored.code, stored.message);
  return errorBody('internal_error', 'An unexpected error occurred; it has been logged.');
}

/** Shared response map: every route documents the error shape for 4xx and 5xx. */
export const errorResponses = {
  '4xx': { $ref: 'Error#' },
  '5xx': { $ref: 'Error#' },
} as const;
