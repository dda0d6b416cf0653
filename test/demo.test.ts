// `labelcast demo` shows a newcomer signed, verified webhooks from a short session.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './helpers/process.js';

describe('labelcast demo', () => {
  it('plays a session and prints each webhook verified', () => {
    const run = spawnSync(process.execPath, [CLI, 'demo', '--exit'], { encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH ?? '' } });
    expect(run.status, run.stderr).toBe(0);
    const verified = run.stdout.split('\n').filter((l) => l.includes('signature verified')).map((l) => l.split(/\s+/)[5]);
    expect(verified).toEqual(['task.created', 'annotation.created', 'task.submitted', 'review.rejected', 'task.submitted', 'review.accepted', 'task.completed']);
    expect(run.stdout).toMatch(/7 webhooks delivered and verified/);
    expect(run.stdout).toMatch(/\/v1\/deliveries/);
  });
});
