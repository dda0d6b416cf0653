// The seam between the dispatcher and the custom-action sandbox (issue 13). A custom action's
// run is a delivery: the dispatcher claims it like any other, builds the handler's input
// (event + context) and secrets, and hands them to an ActionRunner; the result is recorded
// as the delivery's attempt (output, logs, duration). The sandbox (src/transports/sandbox/,
// built separately) implements this interface; the server injects it at start. Without a
// runner, runs fail visibly ("no runner") and are retried per the schedule, never faked.

export interface ActionLimits {
  memory_mb: number;
  cpu_ms: number;
  wall_ms: number;
}

export interface ActionRunInput {
  /** The run (delivery) id. */
  runId: number;
  orgId: number;
  language: 'javascript' | 'python';
  code: string;
  /** {uuid, event, pipeline_id, trigger_result_id, ts_ms, ...custom arguments} (seed 004). */
  event: Record<string, unknown>;
  /** {op, before, after, ts_ms} for entity events; the body for an incoming webhook or manual run. */
  context: unknown;
  /** The mounted secret set's values (empty when none is mounted). */
  secrets: Record<string, string>;
  limits: ActionLimits;
  signal: AbortSignal;
}

export interface ActionRunResult {
  ok: boolean;
  /** The handler's JSON return value (ok), or null. */
  output: unknown;
  /** Why it failed: the error and its traceback (seed 004 "Output JSON ... or a traceback"). */
  error: { message: string; traceback?: string } | null;
  /** What the handler printed, captured per run. */
  logs: string;
  duration_ms: number;
}

export interface ActionRunner {
  run(input: ActionRunInput): Promise<ActionRunResult>;
}

export const MAX_RUN_LOGS = 64 * 1024;
export const MAX_RUN_OUTPUT = 64 * 1024;
