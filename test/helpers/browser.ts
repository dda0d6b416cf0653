// A real headless Chromium (Debian's package, driven by playwright-core) against a real server
// listening on 127.0.0.1. Never `npx playwright install`: CI has no internet, .ci/run installs
// the chromium package with apt-get instead.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { startServer, type Running } from '../../src/server.js';
import { openTestStore } from './stores.js';
import type { DatabaseKind } from '../../src/store/kind.js';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ADMIN_KEY = 'lc_console_test_admin_key_0123456789';

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`The console tests need Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does).`);
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export interface ConsoleServer {
  running: Running;
  url: string;
  api<T = any>(method: string, p: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** The real `serve` (API, dispatcher, scheduler, console) on SQLite or PostgreSQL. */
export async function startConsoleServer(kind: DatabaseKind): Promise<ConsoleServer> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'labelcast-console-'));
  // PostgreSQL: a schema of TEST_DATABASE_URL, like the store tests (a database of its own
  // would be dropped by any other checkout's test run starting on the same server).
  const pg = kind === 'postgres' ? await openTestStore('postgres') : null;
  const env: NodeJS.ProcessEnv = {
    LOG_LEVEL: process.env.DBG_LOG ?? 'silent',
    LABELCAST_ADMIN_KEY: ADMIN_KEY,
    // Test receivers listen on 127.0.0.1, which the default target policy refuses.
    LABELCAST_ALLOWED_TARGETS: '127.0.0.1',
    LABELCAST_RETRY_SCHEDULE: '0,200,400',
  };
  const running = await startServer(loadConfig(env, { port: '0', host: '127.0.0.1', data }), () => {}, pg?.store);
  const url = running.url.replace('localhost', '127.0.0.1');
  return {
    running,
    url,
    async api(method, p, body) {
      const res = await fetch(url + p, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async close() {
      await running.close();
      fs.rmSync(data, { recursive: true, force: true });
    },
  };
}
