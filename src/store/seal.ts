// Sealing of secrets at rest (issue 10 defect 4): AES-256-GCM from node:crypto under a
// 32-byte key. A sealed value is `v1:<kid>:<iv>:<ct>:<tag>`, each part base64url, where
// kid names the key (first 8 bytes of its SHA-256), so a keyring with a new and an old
// key can open values sealed under either while `labelcast rotate-key` re-seals them.
// Generic on purpose: webhook, vendor, Slack and (later) custom-action secrets all use it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface SealKey {
  readonly id: string;
  readonly key: Buffer;
}

/** The current key seals; every key in `all` (current first) may open. */
export interface Keyring {
  readonly current: SealKey;
  readonly all: readonly SealKey[];
}

const PREFIX = 'v1';

export function keyFrom(raw: Buffer): SealKey {
  if (raw.length !== 32) throw new Error(`a sealing key must be 32 bytes (base64 of 32 random bytes); got ${raw.length}`);
  return { id: crypto.createHash('sha256').update(raw).digest().subarray(0, 8).toString('base64url'), key: raw };
}

export function keyFromBase64(text: string): SealKey {
  return keyFrom(Buffer.from(text.trim(), 'base64'));
}

export function keyring(current: SealKey, ...old: SealKey[]): Keyring {
  return { current, all: [current, ...old.filter((k) => k.id !== current.id)] };
}

export function isSealed(value: string): boolean {
  return /^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]*:[A-Za-z0-9_-]+$/.test(value);
}

export function seal(ring: Keyring, plaintext: string): string {
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv('aes-256-gcm', ring.current.key, iv);
  const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return [PREFIX, ring.current.id, iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join(':');
}

export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

export function open(ring: Keyring, sealed: string): string {
  if (!isSealed(sealed)) throw new SealError('not a sealed value');
  const [, kid, iv, ct, tag] = sealed.split(':') as [string, string, string, string, string];
  const k = ring.all.find((x) => x.id === kid);
  if (!k) throw new SealError(`sealed under key ${kid}, which is not configured (set LABELCAST_SECRET_KEY_OLD to the previous key)`);
  const d = crypto.createDecipheriv('aes-256-gcm', k.key, Buffer.from(iv, 'base64url'));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
  } catch {
    throw new SealError(`sealed value under key ${kid} failed authentication (tampered or wrong key)`);
  }
}

/** Opens a sealed value; a legacy plaintext row (before the sealing migration) passes through. */
export function openOrPlain(ring: Keyring, value: string): string {
  return isSealed(value) ? open(ring, value) : value;
}

/** Needs re-sealing under the current key (plaintext, or sealed under an old key). */
export function needsReseal(ring: Keyring, value: string): boolean {
  return !isSealed(value) || value.split(':')[1] !== ring.current.id;
}

/**
 * The key ring from settings: LABELCAST_SECRET_KEY (base64 of 32 bytes) and optionally
 * LABELCAST_SECRET_KEY_OLD; without the setting, a key file `labelcast.key` in `dataDir`,
 * created with mode 0600 on first start. Several processes must share one key: set it.
 */
export function loadKeyring(env: Record<string, string | undefined>, dataDir: string): Keyring {
  const old = env.LABELCAST_SECRET_KEY_OLD ? [keyFromBase64(env.LABELCAST_SECRET_KEY_OLD)] : [];
  if (env.LABELCAST_SECRET_KEY) return keyring(keyFromBase64(env.LABELCAST_SECRET_KEY), ...old);
  const file = path.join(dataDir, 'labelcast.key');
  try {
    return keyring(keyFromBase64(fs.readFileSync(file, 'utf8')), ...old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const fresh = crypto.randomBytes(32).toString('base64');
  // 'wx': two processes starting at once must not each write a different key.
  try {
    fs.writeFileSync(file, fresh + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return keyring(keyFromBase64(fs.readFileSync(file, 'utf8')), ...old);
}
