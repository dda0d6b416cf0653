// The console (web/, a Vite build) served by the API process at `/`: one thing to run.
// index.html is never cached, so a new build is picked up on reload; Vite names assets by
// content hash, so they are cached for a year. Client routes (/notifications, /deliveries/12)
// get index.html when a browser asks for a page; anything else unknown keeps the API's 404 JSON.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Api } from './http.js';

/** web/dist next to dist/ (built server) and src/ (tests): both sit two levels below the repo root. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Labelcast</title></head>
<body><h1>Labelcast</h1><p>The console has not been built. Run <code>npm run build</code> (it builds the server and the console), then reload.</p>
<p>The API answers at <a href="/v1/users/me">/v1</a>; its documentation is at <a href="/docs">/docs</a>.</p></body></html>`;

/** Paths the console never owns: a browser asking for them gets the API's answer. */
const API_PATHS = /^\/(v1|docs|openapi\.json|healthz|readyz|metrics|assets)(\/|$|\?)/;

export function isPageRequest(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (API_PATHS.test(req.url)) return false;
  return (req.headers.accept ?? '').includes('text/html');
}

/** Registers `/` and `/assets/*`; returns the page handler for client routes (the not-found fallback). */
export async function registerConsole(app: Api, dir: string): Promise<(req: FastifyRequest, reply: FastifyReply) => FastifyReply> {
  const indexFile = join(dir, 'index.html');
  if (!existsSync(indexFile)) {
    const page = (_req: FastifyRequest, reply: FastifyReply) => reply.status(404).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    app.get('/', { schema: { hide: true } }, page);
    return page;
  }
  // Read once at start: the build does not change under a running process.
  const index = readFileSync(indexFile);
  const page = (_req: FastifyRequest, reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  app.get('/', { schema: { hide: true } }, page);
  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/assets/',
    wildcard: true,
    index: false,
    immutable: true,
    maxAge: '365d',
  });
  return page;
}
