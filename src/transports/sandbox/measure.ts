// Start-up time and memory of the sandbox, per language, for docs/custom-actions-sandbox.md:
//   npm run build && node dist/transports/sandbox/measure.js [warm runs]
// Cold = a run that had to start its interpreter process; warm = a run on a ready one.
import { createSandboxPool, runAction } from './pool.js';
import { DEFAULT_LIMITS, sandboxSettings, type ActionLanguage } from './types.js';

const HANDLERS: Record<ActionLanguage, string> = {
  javascript: 'function handler(event, context) { console.log("event", event.n); return { n: event.n + 1, op: context.op } }',
  python: 'def handler(event, context):\n    print("event", event["n"])\n    return {"n": event["n"] + 1, "op": context["op"]}',
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const warmRuns = Number(process.argv[2] ?? 50);
  const out: Record<string, unknown> = { node: process.version, warmRuns };
  for (const language of ['javascript', 'python'] as const) {
    const cold: number[] = [];
    const coldRss: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A fresh pool each time, so every one of these runs starts its process.
      const pool = createSandboxPool(sandboxSettings({ allowPrivate: false, allowlist: null }, { maxProcesses: 1 }));
      const r = await runAction(pool, { language, code: HANDLERS[language], event: { n: 1 }, context: { op: 'c' }, secrets: {}, limits: DEFAULT_LIMITS, orgId: 'measure' });
      if (r.status !== 'succeeded') throw new Error(JSON.stringify(r));
      cold.push(r.durationMs);
      coldRss.push(r.usage.peakRssMiB ?? NaN);
      await pool.close();
    }
    const pool = createSandboxPool(sandboxSettings({ allowPrivate: false, allowlist: null }, { maxProcesses: 1, maxRunsPerProcess: warmRuns + 10 }));
    await runAction(pool, { language, code: HANDLERS[language], event: { n: 1 }, context: { op: 'c' }, secrets: {}, limits: DEFAULT_LIMITS, orgId: 'measure' });
    const warm: number[] = [];
    const warmRss: number[] = [];
    for (let i = 0; i < warmRuns; i++) {
      const r = await runAction(pool, { language, code: HANDLERS[language], event: { n: i }, context: { op: 'c' }, secrets: { TOKEN: 'abcdefgh' }, limits: DEFAULT_LIMITS, orgId: 'measure' });
      warm.push(r.durationMs);
      warmRss.push(r.usage.peakRssMiB ?? NaN);
    }
    await pool.close();
    out[language] = {
      coldRunMs: { median: median(cold), all: cold },
      warmRunMs: { median: median(warm), max: Math.max(...warm) },
      processRssMiB: { afterColdRun: median(coldRss), warmPeak: Math.max(...warmRss) },
    };
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

await main();
