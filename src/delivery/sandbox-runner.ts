// The production ActionRunner (issue 13): the dispatcher's run input mapped onto the sandbox
// pool (src/transports/sandbox/) and its outcome mapped back. Imports point down only: the
// channel seam and the transport. Limits: an action's own limits may lower the operator's
// settings (LABELCAST_ACTION_*), never raise them, so the pool size times the memory cap
// bounds what custom actions can take from the machine (docs/custom-actions-sandbox.md).
import type { ActionRunInput, ActionRunResult, ActionRunner } from '../model/action-run.js';
import type { TargetPolicy } from '../model/addresses.js';
import { createSandboxPool, runAction, type SandboxPool } from '../transports/sandbox/pool.js';
import { sandboxSettings, type RunLimits } from '../transports/sandbox/types.js';
import type { ActionSettings } from '../model/delivery-settings.js';

export interface SandboxRunner extends ActionRunner {
  /** Stops every interpreter process (server shutdown). */
  close(): Promise<void>;
}

export function effectiveLimits(asked: ActionRunInput['limits'], s: ActionSettings): RunLimits {
  return {
    memoryMiB: Math.min(asked.memory_mb, s.memoryMiB),
    cpuMs: Math.min(asked.cpu_ms, s.cpuMs),
    wallMs: Math.min(asked.wall_ms, s.wallMs),
    logBytes: s.logBytes,
  };
}

/** `pool` for tests that share one; by default the runner owns a pool sized by the settings. */
export function createSandboxRunner(o: { targets: TargetPolicy; proxyUrl: string | undefined; fetchTimeoutMs: number; settings: ActionSettings; pool?: SandboxPool }): SandboxRunner {
  const pool = o.pool ?? createSandboxPool(sandboxSettings(o.targets, { proxyUrl: o.proxyUrl, maxProcesses: o.settings.processes, fetchTimeoutMs: o.fetchTimeoutMs }));
  return {
    async run(input: ActionRunInput): Promise<ActionRunResult> {
      const run = runAction(pool, {
        language: input.language,
        code: input.code,
        event: input.event,
        context: input.context,
        secrets: input.secrets,
        limits: effectiveLimits(input.limits, o.settings),
        orgId: String(input.orgId),
      });
      // Shutdown aborts runs in flight: the dispatcher hands their leases back, and closing
      // the pool kills their processes; do not keep the dispatcher waiting for them.
      // The signal is the dispatcher's, shared by every job: the listener is removed after
      // the run, or each run would leave one behind.
      let onAbort = () => undefined as void;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new Error('the run was aborted (shutdown)'));
        if (input.signal.aborted) onAbort();
        input.signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      const r = await Promise.race([run, aborted]).finally(() => input.signal.removeEventListener('abort', onAbort));
      return {
        ok: r.status === 'succeeded',
        output: r.status === 'succeeded' ? (r.output ?? null) : null,
        error: r.status === 'succeeded' ? null : { message: r.error?.message ?? `the run ended ${r.status}`, traceback: r.error?.traceback ?? '' },
        logs: r.logs,
        duration_ms: Math.round(r.durationMs),
      };
    },
    close: () => pool.close(),
  };
}
