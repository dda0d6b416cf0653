// Runs the built CLI (dist/cli.js, built by `npm test`'s pretest) as a child process, for
// tests that kill, restart or multiply Labelcast processes.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import crypto from 'node:crypto';
import { TEST_DATABASE_URL } from './stores.js';

export const CLI = path.resolve(import.meta.dirname, '../../dist/cli.js');
export const ADMIN_KEY = 'lc_test-admin-key-for-child-processes';
export const CHILD_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

export interface Child {
  proc: ChildProcess;
  url: string;
  output: string[];
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startChild(env: Record<string, string>, args: string[] = []): Promise<Child> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      LABELCAST_ADMIN_KEY: ADMIN_KEY,
      LABELCAST_ALLOW_PRIVATE_TARGETS: 'true',
      LOG_LEVEL: 'warn',
      LABELCAST_RETRY_SCHEDULE: '0,50ms,100ms,200ms,500ms',
      LABELCAST_POLL_INTERVAL: '200ms',
      // A short timeout keeps a killed worker's leases (timeout + 10 s) short enough to test.
      LABELCAST_WEBHOOK_TIMEOUT: '2s',
      // Processes on one database share one sealing key, as docs/security.md asks.
      LABELCAST_SECRET_KEY: CHILD_SECRET_KEY,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (b: Buffer) => {
      const text = b.toString();
      output.push(text);
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(output.join(''));
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => reject(new Error(`labelcast exited with ${code} before listening:\n${output.join('')}`)));
    setTimeout(() => reject(new Error(`labelcast did not start in 20 s:\n${output.join('')}`)), 20_000);
  });
  return {
    proc,
    url,
    output,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** A fresh PostgreSQL database for tests that run several processes on one database. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = 'lc_proc_' + crypto.randomBytes(5).toString('hex');
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = '/' + name;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function api(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
