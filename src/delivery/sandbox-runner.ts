// The production ActionRunner (src/channels/action-runner.ts): custom-action runs go to the
// sandbox's pool of restricted interpreter processes (src/transports/sandbox/,
// docs/custom-actions-sandbox.md). The dispatcher owns the run record (status, TTL, the
// per-action cap); this module only translates one run in and one outcome out.
import type { ActionRunInput, ActionRunResult, ActionRunner } from '../channels/action-runner.js';
import { MAX_RUN_LOGS } from '../channels/action-runner.js';
import type { TargetPolicy } from '../channels/targets.js';
import { createSandboxPool, runAction, type SandboxPool } from '../transports/sandbox/pool.js';
import { sandboxSettings } from '../transports/sandbox/types.js';

export interface SandboxRunner extends ActionRunner {
  close(): Promise<void>;
}

export function sandboxRunner(o: { targets: TargetPolicy; proxyUrl: string | undefined; processes: number }): SandboxRunner {
  // A handler's fetch obeys the webhook rules: the same SSRF policy and egress proxy.
  const pool: SandboxPool = createSandboxPool(sandboxSettings(o.targets, { proxyUrl: o.proxyUrl, maxProcesses: o.processes }));
  return {
    async run(input: ActionRunInput): Promise<ActionRunResult> {
      const r = await runAction(pool, {
        language: input.language,
        code: input.code,
        event: input.event,
        context: input.context,
        secrets: input.secrets,
        limits: { memoryMiB: input.limits.memory_mb, cpuMs: input.limits.cpu_ms, wallMs: input.limits.wall_ms, logBytes: MAX_RUN_LOGS },
        orgId: String(input.orgId),
      });
      const ok = r.status === 'succeeded';
      return {
        ok,
        output: ok ? (r.output ?? null) : null,
        error: ok ? null : { message: r.error?.message ?? `the run ended ${r.status}`, traceback: r.error?.traceback ?? '' },
        logs: r.logs,
        duration_ms: Math.round(r.durationMs),
      };
    },
    close: () => pool.close(),
  };
}
