// Secrets are masked wherever a run's text leaves the sandbox; logs are capped after masking.
import { describe, expect, it } from 'vitest';
import { MASK, capBytes, maskJson, masker } from '../../../src/transports/sandbox/mask.js';

describe('masker', () => {
  it('masks every mounted value, its JSON-escaped form, and a longer secret before one it contains', () => {
    const mask = masker({ A: 'tok-123', B: 'tok-123-long', C: 'line\n"two"', SHORT: 'no' });
    expect(mask('a tok-123-long b tok-123')).toBe(`a ${MASK} b ${MASK}`);
    expect(mask(JSON.stringify({ v: 'line\n"two"' }))).toBe(`{"v":"${MASK}"}`);
    // Two-letter values would turn every "no" of a log into stars while protecting nothing.
    expect(mask('no way')).toBe('no way');
  });

  it('masks strings and keys deep inside a JSON value, and leaves other types alone', () => {
    const mask = masker({ K: 'sekrit' });
    expect(maskJson({ a: ['x sekrit', 1, null, true], sekrit: { b: 'sekrit' } }, mask)).toEqual({ a: [`x ${MASK}`, 1, null, true], [MASK]: { b: MASK } });
  });
});

describe('capBytes', () => {
  it('keeps short text and cuts long text at the byte limit with a marker, never mid-character', () => {
    expect(capBytes('short', 10)).toBe('short');
    expect(capBytes('x'.repeat(20), 10)).toBe(`${'x'.repeat(10)}\n[logs truncated: 10 more bytes]`);
    expect(capBytes('ééé', 3)).toBe('é\n[logs truncated: 3 more bytes]');
  });
});
