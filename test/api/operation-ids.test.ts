// Client generators (openapi-typescript, openapi-fetch, the console's typed calls) name methods by
// operationId; a missing or duplicated one breaks them silently, so the document is checked here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupApi, type TestApi } from '../helpers/api.js';

describe('every /openapi.json operation has a unique camelCase operationId', () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await setupApi('sqlite');
  });
  afterAll(() => t.close());

  it('names each operation once, verb first', async () => {
    const doc = (await t.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { operationId?: string }>> };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, id: op.operationId })));
    expect(ops.length).toBeGreaterThanOrEqual(61);
    expect(ops.filter((o) => !o.id).map((o) => o.at)).toEqual([]);
    const seen = new Map<string, string>();
    const dupes: string[] = [];
    for (const o of ops) {
      if (seen.has(o.id!)) dupes.push(`${o.id}: ${seen.get(o.id!)} and ${o.at}`);
      seen.set(o.id!, o.at);
    }
    expect(dupes).toEqual([]);
    expect(ops.filter((o) => !/^(list|get|create|update|delete|replace|add|enable|rotate|ping|recover|resend|submit|review|preview|start|refresh)[A-Z][A-Za-z]*$/.test(o.id!)).map((o) => o.id)).toEqual([]);
  });
});
