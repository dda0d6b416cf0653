// Typed calls to the public /v1 API: paths, parameters and bodies come from schema.d.ts, which
// `npm run build` generates from the server's own /openapi.json, so the console cannot drift.
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import { currentKey } from '../auth';

export type Schemas = components['schemas'];

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use({
  onRequest({ request }) {
    const key = currentKey();
    if (key) request.headers.set('authorization', `Bearer ${key}`);
    return request;
  },
});

/** The API's error shape ({code, message, status}), thrown so queries and mutations can show it. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Unwraps an openapi-fetch result: the data, or the API's error as an ApiError. */
export async function call<T>(p: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r;
  try {
    r = await p;
  } catch (err) {
    throw new ApiError('network_error', `The server did not answer: ${(err as Error).message}`, 0);
  }
  if (r.error !== undefined || !r.response.ok) {
    const e = (r.error ?? {}) as { code?: string; message?: string };
    throw new ApiError(e.code ?? 'http_error', e.message ?? `HTTP ${r.response.status}`, r.response.status);
  }
  return r.data as T;
}
