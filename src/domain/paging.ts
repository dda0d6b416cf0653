// Keyset paging: a cursor is the last id a page returned, opaque to clients so the
// encoding may change. Keyset (not offset) keeps each page one index range scan.
import { sql, type RawBuilder } from 'kysely';
import { AppError } from '../model/errors.js';

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface PageQuery {
  cursor?: string | undefined;
  limit?: number | undefined;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export function encodeCursor(lastId: number): string {
  return Buffer.from(`c1:${lastId}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined || cursor === '') return 0;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^c1:(\d{1,15})$/.exec(text);
  if (!m) throw new AppError('invalid_cursor', 'cursor is not valid: pass the next_cursor value of a previous page unchanged.');
  return Number(m[1]);
}

/** Rows were fetched with limit + 1 to learn whether another page exists without a count. */
export function toPage<R, T>(rows: R[], limit: number, view: (r: R) => T, key: (r: R) => number = (r) => (r as { id: number }).id): Page<T> {
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  const last = shown[shown.length - 1];
  return { data: shown.map(view), next_cursor: more && last ? encodeCursor(key(last)) : null };
}

export function pageLimit(q: PageQuery): number {
  return Math.min(q.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
}

/** Case-insensitive "title contains", with LIKE's wildcards in the search taken literally. */
export function titleContains(search: string): RawBuilder<boolean> {
  const pattern = '%' + search.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%';
  return sql<boolean>`lower(title) like ${pattern} escape '\\'`;
}
