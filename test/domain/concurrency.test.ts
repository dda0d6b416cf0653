// Two reviewers accept a task's last two labels at the same moment: the task completes
// exactly once. On PostgreSQL this exercises the FOR UPDATE lock on the task row; on
// SQLite, the single writer connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KINDS } from '../helpers/stores.js';
import { setupApi, type TestApi } from '../helpers/api.js';

describe.each(KINDS)('concurrent reviews on %s', (kind) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await setupApi(kind);
  });
  afterAll(async () => api?.close());

  it('completes a task once when its last labels are accepted together', async () => {
    const p = (await api.call('POST', '/v1/projects', { body: { title: 'race' } })).body;
    const tasks = (await api.call('POST', `/v1/projects/${p.id}/tasks`, { body: { tasks: Array.from({ length: 10 }, () => ({ data: {} })) } })).body.tasks;
    const pairs: [number, number][] = [];
    for (const t of tasks) {
      const a = (await api.call('POST', `/v1/tasks/${t.id}/labels`, { body: { result: [1] } })).body;
      const b = (await api.call('POST', `/v1/tasks/${t.id}/labels`, { body: { result: [2] } })).body;
      await api.call('POST', `/v1/tasks/${t.id}/submit`);
      pairs.push([a.id, b.id]);
    }
    const results = await Promise.all(pairs.flat().map((id) => api.call('POST', `/v1/labels/${id}/review`, { body: { decision: 'accept' } })));
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    const completed = (await api.call('GET', `/v1/events?type=task.completed&project_id=${p.id}&limit=500`)).body.data;
    expect(completed.map((e: any) => e.data.task.id).sort((x: number, y: number) => x - y)).toEqual(tasks.map((t: any) => t.id));
  });
});
