// A custom action's limits against the operator's bounds (LABELCAST_ACTION_MEMORY_MIB,
// _CPU_MS, _WALL_MS), on both databases: a value above a bound is a 400 naming the setting,
// with nothing written; limits not given default within the bounds; an update keeps the
// limits it does not name.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';
import { loadDeliverySettings } from '../../src/model/delivery-settings.js';

describe.each(KINDS)('custom action limits on %s', (kind) => {
  let api: TestApi;
  beforeEach(async () => {
    // This server allows 64 MiB and 2 s of CPU per run (defaults 128 MiB, 60 s).
    api = await setupApi(kind, { delivery: { actions: { ...loadDeliverySettings({}).actions, memoryMiB: 64, cpuMs: 2000 } } });
  });
  afterEach(async () => {
    await api.close();
  });
  const action = (extra: Record<string, unknown>) => ({ type: 'custom_action', language: 'javascript', code: 'function handler(){ return 1; }', ...extra });
  const create = (extra: Record<string, unknown>) => api.call('POST', '/v1/pipelines', { body: { name: 'limits', trigger: { event: 'manual' }, action: action(extra) } });
  const count = async () => (await api.call('GET', '/v1/pipelines')).body.data.length;

  it('refuses a limit above the bound, naming the setting, and writes nothing', async () => {
    const before = await count();
    const big = await create({ limits: { memory_mb: 512 } });
    expect(big.status).toBe(400);
    expect(big.body.code).toBe('validation_failed');
    expect(big.body.message).toMatch(/memory_mb may be at most 64 .*LABELCAST_ACTION_MEMORY_MIB/);
    const slow = await create({ limits: { cpu_ms: 5000 } });
    expect(slow.status).toBe(400);
    expect(slow.body.message).toMatch(/cpu_ms may be at most 2000 .*LABELCAST_ACTION_CPU_MS/);
    expect(await count()).toBe(before);
  });

  it('defaults within the bounds, accepts the bound itself, and keeps unnamed limits on update', async () => {
    const plain = await create({});
    expect(plain.status).toBe(201);
    expect(plain.body.action.limits).toEqual({ memory_mb: 64, cpu_ms: 2000, wall_ms: 300_000 });
    const at = await create({ limits: { memory_mb: 64, cpu_ms: 500 } });
    expect(at.status).toBe(201);
    expect(at.body.action.limits).toEqual({ memory_mb: 64, cpu_ms: 500, wall_ms: 300_000 });

    const id = at.body.action.id;
    const up = await api.call('PATCH', `/v1/actions/${id}`, { body: { limits: { wall_ms: 10_000 } } });
    expect(up.status).toBe(200);
    expect(up.body.limits).toEqual({ memory_mb: 64, cpu_ms: 500, wall_ms: 10_000 });
    const over = await api.call('PATCH', `/v1/actions/${id}`, { body: { limits: { memory_mb: 65 } } });
    expect(over.status).toBe(400);
    expect(over.body.code).toBe('validation_failed');
    expect((await api.call('GET', `/v1/actions/${id}`)).body.limits).toEqual({ memory_mb: 64, cpu_ms: 500, wall_ms: 10_000 });
  });
});
