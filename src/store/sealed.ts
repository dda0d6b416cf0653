// Which stored values are secrets, and the walk that (re-)seals them (issue 10 defect 4):
// - channels.secret, channels.previous_secret: webhook signing keys (Standard Webhooks,
//   SuperAnnotate HMAC), sealed whole;
// - channels.config: the values of a webhook's custom headers, and a Slack channel's
//   incoming-webhook URL; the rest of the JSON (url, dialect, header names, recipients)
//   stays readable, so routing and views need no key;
// - slack_connections.bot_token; action_secrets.sealed (custom-action secret sets, a JSON
//   object sealed whole); settings.oauth_state_key (the Slack OAuth state MAC key).
// Readers open with openOrPlain: a row written before sealing (or by an older process during
// a rolling upgrade) still reads, and the walk below seals it at the next start.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './connect.js';
import { isSealed, needsReseal, open, openOrPlain, seal, SealError, type Keyring } from './seal.js';

// ------------------------------------------------------------------ channel configs

interface SecretFields {
  headers?: Record<string, string>;
  via?: string;
  url?: string;
}

function mapSecrets(kind: string, cfg: SecretFields, f: (v: string) => string): SecretFields {
  if (kind === 'webhook' && cfg.headers) return { ...cfg, headers: Object.fromEntries(Object.entries(cfg.headers).map(([k, v]) => [k, f(v)])) };
  if (kind === 'slack' && cfg.via === 'webhook' && typeof cfg.url === 'string') return { ...cfg, url: f(cfg.url) };
  return cfg;
}

/**
 * A channel's config as stored, from a plaintext one (user input, or one openConfig opened):
 * every secret field is sealed, even one that happens to look sealed (a header value typed
 * as "v1:a:b:c:d" would otherwise be stored as it came and fail to open).
 */
export function sealConfig(ring: Keyring, kind: string, cfg: object): string {
  return JSON.stringify(mapSecrets(kind, cfg as SecretFields, (v) => seal(ring, v)));
}

/** A stored channel config, parsed, with its secret fields opened. */
export function openConfig<T>(ring: Keyring, kind: string, config: string): T {
  return mapSecrets(kind, JSON.parse(config) as SecretFields, (v) => openOrPlain(ring, v)) as T;
}

// ------------------------------------------------------------------ custom-action secret sets

// Rows written by the pipelines branch before sealing existed: "plain:" + base64 of the JSON.
const LEGACY_PLAIN = 'plain:';

export function sealJson(ring: Keyring, values: unknown): string {
  return seal(ring, JSON.stringify(values));
}

export function openJson<T>(ring: Keyring, stored: string): T {
  if (stored.startsWith(LEGACY_PLAIN)) return JSON.parse(Buffer.from(stored.slice(LEGACY_PLAIN.length), 'base64').toString('utf8')) as T;
  return JSON.parse(open(ring, stored)) as T;
}

// ------------------------------------------------------------------ the walk

export interface SealCounts {
  /** Values looked at (a channel config counts once per secret field). */
  scanned: number;
  /** Plaintext values sealed under the current key. */
  sealed: number;
  /** Values re-sealed from an older key to the current one. */
  resealed: number;
  /** Rows changed by someone else between read and write; a re-run picks them up. */
  raced: number;
  /** Values under a key not in the ring (set LABELCAST_SECRET_KEY_OLD): left as they are. */
  unopenable: number;
}

export interface WalkOptions {
  /** 'plaintext': seal only what is not sealed (the start-up step); 'rotate': also move
   *  values under an old key to the current key (labelcast rotate-key). */
  mode: 'plaintext' | 'rotate';
  batchSize?: number;
  onBatch?: (table: string, counts: SealCounts) => void;
}

type Verdict = 'keep' | 'sealed' | 'resealed' | 'unopenable';

/** What to do with one stored value, and its new form. */
function judge(ring: Keyring, value: string, mode: WalkOptions['mode'], openAs: 'text' | 'json'): { verdict: Verdict; next: string } {
  const legacyJson = openAs === 'json' && value.startsWith(LEGACY_PLAIN);
  if (!isSealed(value) || legacyJson) {
    const plain = legacyJson ? JSON.stringify(openJson(ring, value)) : value;
    return { verdict: 'sealed', next: seal(ring, plain) };
  }
  if (mode === 'plaintext' || !needsReseal(ring, value)) return { verdict: 'keep', next: value };
  try {
    return { verdict: 'resealed', next: seal(ring, open(ring, value)) };
  } catch (err) {
    if (err instanceof SealError) return { verdict: 'unopenable', next: value };
    throw err;
  }
}

function tally(c: SealCounts, v: Verdict): void {
  c.scanned += 1;
  if (v === 'sealed') c.sealed += 1;
  else if (v === 'resealed') c.resealed += 1;
  else if (v === 'unopenable') c.unopenable += 1;
}

const empty = (): SealCounts => ({ scanned: 0, sealed: 0, resealed: 0, raced: 0, unopenable: 0 });

/**
 * Seals every secret value that needs it, in batches of rows ordered by key. Each row is
 * written only if it is still what was read (compare-and-set on the old values), so a user's
 * change or another process doing the same walk at the same time is never overwritten.
 * Safe to run again at any point: sealed values under the current key are left alone.
 */
export async function sealStoredSecrets(store: Store, ring: Keyring, opts: WalkOptions): Promise<SealCounts> {
  const total = empty();
  const add = (table: string, c: SealCounts) => {
    for (const k of Object.keys(total) as (keyof SealCounts)[]) total[k] += c[k];
    if (c.scanned > 0) opts.onBatch?.(table, c);
  };
  const size = opts.batchSize ?? 200;
  const db = store.db as Kysely<Database>;

  for (let after = 0; ; ) {
    const rows = await db.selectFrom('channels').select(['id', 'kind', 'config', 'secret', 'previous_secret']).where('id', '>', after).orderBy('id').limit(size).execute();
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    const c = empty();
    for (const r of rows) {
      let changed = false;
      const one = (v: string | null): string | null => {
        if (v === null) return null;
        const j = judge(ring, v, opts.mode, 'text');
        tally(c, j.verdict);
        if (j.next !== v) changed = true;
        return j.next;
      };
      const secret = one(r.secret);
      const previous = one(r.previous_secret);
      const config = JSON.stringify(mapSecrets(r.kind, JSON.parse(r.config) as SecretFields, (v) => one(v)!));
      if (!changed) continue;
      const res = await db
        .updateTable('channels')
        .set({ secret, previous_secret: previous, config })
        .where('id', '=', r.id)
        .where('config', '=', r.config)
        .where((eb) => (r.secret === null ? eb('secret', 'is', null) : eb('secret', '=', r.secret)))
        .where((eb) => (r.previous_secret === null ? eb('previous_secret', 'is', null) : eb('previous_secret', '=', r.previous_secret)))
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) c.raced += 1;
    }
    add('channels', c);
  }

  // Tables with one sealed value per row, walked the same way: [table, key column, value column, form].
  const single: [string, string, string, 'text' | 'json'][] = [
    ['slack_connections', 'id', 'bot_token', 'text'],
    ['action_secrets', 'id', 'sealed', 'json'],
    ['settings', 'key', 'value', 'text'],
  ];
  for (const [table, key, column, form] of single) {
    // The names come from the list above, never from input; Kysely cannot type a table
    // chosen at run time, hence the untyped handle.
    const any = db as unknown as Kysely<any>;
    for (let after: number | string = key === 'id' ? 0 : ''; ; ) {
      let q = any.selectFrom(table).select([key, column]).where(key, '>', after).orderBy(key).limit(size);
      if (table === 'settings') q = q.where(key, 'in', [...SEALED_SETTINGS]);
      const rows = await q.execute();
      if (rows.length === 0) break;
      after = rows[rows.length - 1]![key];
      const c = empty();
      for (const r of rows) {
        const j = judge(ring, r[column], opts.mode, form);
        tally(c, j.verdict);
        if (j.next === r[column]) continue;
        const res = await any.updateTable(table).set({ [column]: j.next }).where(key, '=', r[key]).where(column, '=', r[column]).executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) c.raced += 1;
      }
      add(table, c);
    }
  }
  return total;
}

// ------------------------------------------------------------------ the key check

export const KEY_CHECK = 'seal_key_check';
const SEALED_SETTINGS = new Set(['oauth_state_key', KEY_CHECK]);
const CHECK_TEXT = 'labelcast key check';

/**
 * Refuses a key that cannot open what this database holds. The first start seals a known
 * text under its key; a later start whose ring cannot open it (another process's key file, a
 * key dropped before rotate-key ran) stops with the reason instead of failing every signed
 * delivery. Several processes on one PostgreSQL are caught the same way.
 */
export async function checkKeyring(store: Store, ring: Keyring): Promise<void> {
  await store.db
    .insertInto('settings')
    .values({ key: KEY_CHECK, value: seal(ring, CHECK_TEXT) })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await store.db.selectFrom('settings').select('value').where('key', '=', KEY_CHECK).executeTakeFirstOrThrow();
  try {
    if (open(ring, row.value) === CHECK_TEXT) return;
  } catch (err) {
    if (!(err instanceof SealError)) throw err;
  }
  throw new SealError(
    `this database's secrets are sealed under key ${row.value.split(':')[1]}, which this process does not have (its key is ${ring.current.id}). ` +
      'Every process must use the same LABELCAST_SECRET_KEY; after changing it, keep the previous one in LABELCAST_SECRET_KEY_OLD until `labelcast rotate-key` has run.',
  );
}
