// Database failures a client should see as something other than a 500. When the database
// cannot take a write (disk full, locked past busy_timeout, connection lost), the answer is
// 503 with nothing written: the transaction was rolled back, so the client may retry.
import type { ErrorCode } from '../model/errors.js';

export interface StoreFailure {
  code: ErrorCode;
  message: string;
}

const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|PROTOCOL)/;
// PostgreSQL SQLSTATE classes: 08 connection exception, 53 insufficient resources,
// 57 operator intervention (shutdown, cannot connect now), 58 system error; 55P03
// lock_not_available, raised when lock_timeout expires; and 40001 / 40P01, a serialization
// failure or deadlock that outlasted the command's own retries (domain/context.ts).
const PG_UNAVAILABLE = /^(08|53|57|58|55P03|40001|40P01)/;
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

export function storeFailure(err: unknown): StoreFailure | undefined {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505') {
    return { code: 'conflict', message: 'The resource already exists or was created at the same moment by another request; read it and retry if needed.' };
  }
  if (SQLITE_UNAVAILABLE.test(code) || PG_UNAVAILABLE.test(code) || NET_UNAVAILABLE.has(code) || /Connection terminated|connection timeout/i.test(message)) {
    return { code: 'service_unavailable', message: `The database cannot take this request right now (${code || 'connection lost'}); nothing was written. Retry later.` };
  }
  return undefined;
}
