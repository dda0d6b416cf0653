// Every error code a user can meet is documented (the way Fastify keeps its errors honest).
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../src/model/errors.js';

describe('docs/errors.md', () => {
  const doc = fs.readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  it.each(Object.entries(ERROR_CATALOGUE))('documents %s with its status', (code, { status }) => {
    expect(doc).toMatch(new RegExp(`\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
  });
});
