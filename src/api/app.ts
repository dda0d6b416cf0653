// The HTTP application: Fastify with JSON-schema validation, Bearer API-key auth on /v1,
// one error shape for every failure, and the OpenAPI document generated from the routes.
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { authenticate } from '../domain/api-keys.js';
import type { Actor, Services } from '../domain/context.js';
import { AppError } from '../model/errors.js';
import { validatorCompiler } from './validation.js';
import { ErrorBody } from './schemas.js';
import { safeLoggerOptions } from './log.js';
import { parseJsonBounded } from './safe-json.js';
import { projectRoutes } from './routes/projects.js';
import { taskRoutes } from './routes/tasks.js';
import { labelRoutes } from './routes/labels.js';
import { userRoutes } from './routes/users.js';
import { eventRoutes } from './routes/events.js';
import { notificationRoutes } from './routes/notifications.js';
import { vendorWebhookRoutes } from './routes/vendor-webhooks.js';
import { messagingRoutes } from './routes/messaging.js';
import { hookRoutes, pipelineRoutes } from './routes/pipelines.js';
import { activityRoutes } from './routes/activity.js';
import { completeInstall } from '../domain/slack-install.js';
import { Type } from '@sinclair/typebox';
import type { Metrics } from '../delivery/metrics.js';
import { sql } from 'kysely';
import { DEFAULT_CONSOLE_DIR, isPageRequest, registerConsole } from './console.js';
import { DEFAULT_BODY_LIMIT, DEFAULT_HTTP_TIMEOUTS, errorBody, onClientError, toErrorBody, type Api, type HttpTimeouts } from './http.js';


export interface AppOptions {
  svc: Services;
  /** false: only the operations endpoints (a worker process). */
  api?: boolean;
  metrics?: Metrics;
  /** Readiness beyond the database answering (e.g. the dispatcher running). */
  ready?: () => string | null;
  /** pino options, or false for silence (tests). */
  logger?: boolean | Record<string, unknown>;
  /** Largest accepted request body in bytes (stated in docs/api.md). */
  bodyLimit?: number;
  version?: string;
  /** Connection timeouts (docs: README settings table); defaults in DEFAULT_HTTP_TIMEOUTS. */
  timeouts?: Partial<HttpTimeouts>;
  /** The built console (web/dist); default next to the code. Worker processes serve none. */
  consoleDir?: string;
}


export async function buildApp(opts: AppOptions): Promise<Api> {
  const t = { ...DEFAULT_HTTP_TIMEOUTS, ...opts.timeouts };
  const app = Fastify({
    logger: safeLoggerOptions(opts.logger ?? false),
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
    requestTimeout: t.requestTimeoutMs,
    keepAliveTimeout: t.keepAliveTimeoutMs,
    connectionTimeout: t.connectionTimeoutMs,
    http: { headersTimeout: t.headersTimeoutMs, requestTimeout: t.requestTimeoutMs, connectionsCheckingInterval: t.checkIntervalMs },
    clientErrorHandler: onClientError,
    // Bad percent-escapes and over-long path parameters are found by the router before any
    // route runs; answer them in our shape, not Fastify's (issue 10 defect 3).
    frameworkErrors: (err, _req, reply) => {
      const tooLong = err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      const body = tooLong
        ? errorBody('uri_too_long', 'A path parameter is longer than 100 characters; check the URL.')
        : errorBody('bad_request', 'The URL is malformed (for example a bad percent-escape); check the URL.');
      (reply as unknown as { status(n: number): { send(b: unknown): void } }).status(body.status).send(body);
    },
    // Request ids in logs let an operator follow one request; clients may send their own.
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBounded(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addSchema(ErrorBody);
  app.decorateRequest('actor', null as unknown as Actor);

  app.setErrorHandler((err, req, reply) => {
    const body = toErrorBody(err as Error, req);
    if (body.status >= 500) req.log.error({ err }, 'request failed');
    if (body.status === 503) reply.header('retry-after', '5');
    return reply.status(body.status).send(body);
  });
  // PostgreSQL cannot store or compare U+0000 in text; refuse it in the URL like in bodies.
  app.addHook('onRequest', async (req) => {
    if (/%00/i.test(req.url)) throw new AppError('validation_failed', 'The URL contains a NUL character (%00); remove it.');
  });
  let consolePage: ((req: FastifyRequest, reply: FastifyReply) => FastifyReply) | null = null;
  app.setNotFoundHandler((req, reply) => {
    if (consolePage && isPageRequest(req)) return consolePage(req, reply);
    reply.status(404).send(errorBody('route_not_found', `No endpoint ${req.method} ${req.url.split('?')[0]}; see /docs for the API.`));
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Labelcast API',
        version: opts.version ?? '0.1.0',
        description: 'Annotation workflow events and the notifications they trigger. Authenticate with Authorization: Bearer <API key>.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _frag, i) => (json.$id as string) ?? `def-${i}` },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  // Liveness: the process answers. Readiness: it can do its work (the database answers).
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(opts.svc.store.db);
    } catch (err) {
      return reply.status(503).send({ status: 'unavailable', reason: `database: ${(err as Error).message}` });
    }
    const notReady = opts.ready?.() ?? null;
    if (notReady) return reply.status(503).send({ status: 'unavailable', reason: notReady });
    return { status: 'ready', role: opts.api === false ? 'worker' : 'api' };
  });
  if (opts.metrics) {
    const registry = opts.metrics.registry;
    app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  }
  if (opts.api === false) return app;
  consolePage = await registerConsole(app, opts.consoleDir ?? DEFAULT_CONSOLE_DIR);

  await app.register(async (v1) => {
    v1.addHook('onRequest', async (req) => {
      const header = req.headers.authorization;
      const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
      if (!m) throw new AppError('unauthorized', 'Send your API key as Authorization: Bearer <key>.');
      const actor = await authenticate(opts.svc.store.db, m[1]!);
      if (!actor) throw new AppError('unauthorized', 'The API key is not valid; it may have been deleted. Create a new one with POST /v1/api-keys.');
      req.actor = actor;
    });
    await v1.register(projectRoutes, { svc: opts.svc });
    await v1.register(taskRoutes, { svc: opts.svc });
    await v1.register(labelRoutes, { svc: opts.svc });
    await v1.register(userRoutes, { svc: opts.svc });
    await v1.register(eventRoutes, { svc: opts.svc });
    await v1.register(notificationRoutes, { svc: opts.svc });
    await v1.register(vendorWebhookRoutes, { svc: opts.svc });
    await v1.register(messagingRoutes, { svc: opts.svc });
    await v1.register(pipelineRoutes, { svc: opts.svc });
    await v1.register(activityRoutes, { svc: opts.svc });
  }, { prefix: '/v1' });
  await app.register(hookRoutes, { svc: opts.svc });

  // Slack redirects the person's browser here after they approve the workspace: no API key
  // comes with it; the signed, expiring state says who asked.
  app.get('/v1/slack/oauth/callback', {
    schema: { hide: true, querystring: Type.Object({ code: Type.Optional(Type.String({ maxLength: 500 })), state: Type.Optional(Type.String({ maxLength: 1000 })), error: Type.Optional(Type.String({ maxLength: 200 })) }) },
  }, async (req, reply) => {
    const q = req.query as { code?: string; state?: string; error?: string };
    if (q.error || !q.code || !q.state) {
      return reply.status(400).type('text/html').send(`<p>Slack did not connect${q.error ? `: ${q.error.replace(/[<>&]/g, '')}` : ''}. Start again from GET /v1/slack/install.</p>`);
    }
    const done = await completeInstall(opts.svc, q.code, q.state);
    return reply.type('text/html').send(`<p>Connected the Slack workspace <b>${done.team.replace(/[<>&]/g, '')}</b> (${done.channels} channels). You can close this page; its channels are listed at GET /v1/slack/channels.</p>`);
  });

  return app;
}

