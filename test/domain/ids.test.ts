import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/model/ids.js';

describe('uuidv7', () => {
  it('is a version 7, variant 1 UUID carrying the millisecond', () => {
    const ms = 1_795_000_000_000;
    const id = uuidv7(ms);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBeGreaterThanOrEqual(ms);
  });

  it('is strictly increasing within one millisecond and when the clock steps back', () => {
    const base = Date.now() + 10_000;
    const ids = [uuidv7(base)];
    for (let i = 0; i < 10_000; i++) ids.push(uuidv7(base));
    ids.push(uuidv7(base - 5_000));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });
});
