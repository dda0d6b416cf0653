// JSON bodies are parsed only after an iterative scan bounds their nesting: JSON.parse and
// every recursive walk after it (validation, canonical hashing, storage) overflow the stack
// on deeply nested input (issue 10: 100,000 levels in a task's data gave a 500). 64 levels
// is far above any annotation result seen in the seeds and far below what recursion takes.
import { AppError } from '../model/errors.js';

export const MAX_JSON_DEPTH = 64;

/** Deepest nesting of objects/arrays in a JSON text, stopping early past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** Fastify content-type parser body: refuse too-deep JSON with a documented 400, then parse. */
export function parseJsonBounded(text: string, limit = MAX_JSON_DEPTH): unknown {
  if (text.length === 0) {
    throw new AppError('invalid_json', 'The body is empty but Content-Type is application/json; send a JSON document or no Content-Type.');
  }
  if (jsonDepthExceeds(text, limit)) {
    throw new AppError('json_too_deep', `The body nests objects or arrays more than ${limit} levels deep; flatten it.`);
  }
  // PostgreSQL text and jsonb cannot hold U+0000; refusing it here keeps both stores alike
  // instead of a 500 on one of them (found by the fuzz test, issue 10).
  if (/(^|[^\\])(\\\\)*\\u0000/.test(text) || text.includes('\u0000')) {
    throw new AppError('validation_failed', 'The body contains a NUL character (\\u0000); remove it.');
  }
  try {
    return JSON.parse(text, (key, value) => (key === '__proto__' ? undefined : value));
  } catch (err) {
    throw new AppError('invalid_json', `The body is not valid JSON: ${(err as Error).message}`);
  }
}
