// Child process: the ceiling's client. undici posting straight to the receiver (itself in
// another process), `concurrency` at a time, no queue, no storage.
import { request, Agent } from 'undici';
import { serve } from './procs.js';

serve({
  async blast({ url, n, concurrency }: { url: string; n: number; concurrency: number }) {
    const agent = new Agent({ connections: concurrency });
    const body = JSON.stringify({ type: 'project.updated', timestamp: new Date().toISOString(), data: { project: { id: 1, title: 'x'.repeat(200) } } });
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) {
          const res = await request(`${url}/hook`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher: agent });
          await res.body.dump();
        }
      }),
    );
    const perS = n / ((performance.now() - start) / 1000);
    await agent.close();
    return perS;
  },
});
