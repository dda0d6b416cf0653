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

// The layers that answer a user's request throw AppError with a catalogue code, never a
// free-text Error (which would reach the user as a 500). Operator settings (model/*-settings,
// config.ts), the sandbox's own failures and store invariants are not user input and may.
describe('user-facing errors come from the catalogue', () => {
  const dirs = ['domain', 'api', 'schedule'].map((d) => new URL(`../src/${d}/`, import.meta.url));
  const files = dirs.flatMap((dir) => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => new URL(f, dir)));
  it.each(files.map((f) => [f.pathname.replace(/.*\/src\//, 'src/'), f] as const))('%s throws AppError only', (_name, file) => {
    const src = fs.readFileSync(file, 'utf8');
    expect(src.match(/throw new (?!AppError\b)[A-Za-z]*Error\(/g) ?? []).toEqual([]);
  });
});
