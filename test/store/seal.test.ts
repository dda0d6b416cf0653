// The sealing module (issue 10 defect 4): AES-256-GCM, versioned with a key id, rotation.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSealed, keyFrom, keyring, loadKeyring, needsReseal, open, openOrPlain, seal } from '../../src/store/seal.js';

const k1 = keyFrom(crypto.randomBytes(32));
const k2 = keyFrom(crypto.randomBytes(32));

describe('seal/open', () => {
  it('round-trips, never shows the plaintext, and differs on every seal', () => {
    const ring = keyring(k1);
    const a = seal(ring, 'whsec_TOPSECRET');
    const b = seal(ring, 'whsec_TOPSECRET');
    expect(a).toMatch(new RegExp(`^v1:${k1.id}:`));
    expect(isSealed(a)).toBe(true);
    expect(a).not.toContain('TOPSECRET');
    expect(a).not.toBe(b);
    expect(open(ring, a)).toBe('whsec_TOPSECRET');
    expect(open(ring, seal(ring, ''))).toBe('');
    expect(open(ring, seal(ring, 'ünïcødé ✓'))).toBe('ünïcødé ✓');
  });

  it('refuses a tampered value and an unknown key', () => {
    const s = seal(keyring(k1), 'x-secret');
    const parts = s.split(':');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    expect(() => open(keyring(k1), parts.join(':'))).toThrow(/failed authentication/);
    expect(() => open(keyring(k2), s)).toThrow(/LABELCAST_SECRET_KEY_OLD/);
  });

  it('rotates: a ring with the old key opens old values and seals under the new one', () => {
    const old = seal(keyring(k1), 'rotate-me');
    const ring = keyring(k2, k1);
    expect(open(ring, old)).toBe('rotate-me');
    expect(needsReseal(ring, old)).toBe(true);
    const fresh = seal(ring, open(ring, old));
    expect(needsReseal(ring, fresh)).toBe(false);
    expect(open(keyring(k2), fresh)).toBe('rotate-me');
    expect(needsReseal(ring, 'plain legacy value')).toBe(true);
    expect(openOrPlain(ring, 'plain legacy value')).toBe('plain legacy value');
  });

  it('creates the key file with mode 0600 once, and the setting wins', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seal-'));
    const r1 = loadKeyring({}, dir);
    const file = path.join(dir, 'labelcast.key');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadKeyring({}, dir).current.id).toBe(r1.current.id);
    const env = { LABELCAST_SECRET_KEY: k2.key.toString('base64'), LABELCAST_SECRET_KEY_OLD: k1.key.toString('base64') };
    const r2 = loadKeyring(env, dir);
    expect(r2.current.id).toBe(k2.id);
    expect(r2.all.map((k) => k.id)).toEqual([k2.id, k1.id]);
    expect(() => loadKeyring({ LABELCAST_SECRET_KEY: 'c2hvcnQ=' }, dir)).toThrow(/32 bytes/);
    fs.rmSync(dir, { recursive: true });
  });
});
