// The custom-action sandbox's contract with the delivery pipeline (issue 13, "Custom action"):
// one run in, one outcome out. Nothing here knows about the database: the pipeline records
// the run; the sandbox only runs it.
import type { TargetPolicy } from '../../model/addresses.js';

export type ActionLanguage = 'javascript' | 'python';

export interface RunLimits {
  /** Memory a run may use above its interpreter's idle footprint (issue 13: default 128 MiB). */
  memoryMiB: number;
  /** CPU time the run may burn, measured on its process (interrupt inside QuickJS, kill otherwise). */
  cpuMs: number;
  /** Wall-clock time from start to outcome, host fetches included; the process is killed past it. */
  wallMs: number;
  /** Captured console/print output kept per run; the rest is dropped with a marker. */
  logBytes: number;
}

export interface RunRequest {
  language: ActionLanguage;
  /** Source that defines `handler(event, context)`. */
  code: string;
  /** {uuid, event, pipeline_id, trigger_result_id, ts_ms, ...custom arguments} (seed 004). */
  event: unknown;
  /** The trigger payload: {op, before, after, ts_ms} for entity events, the body for an incoming webhook. */
  context: unknown;
  /** Mounted secret values; masked wherever they show up in logs, output or error text. */
  secrets: Record<string, string>;
  limits: RunLimits;
  /** Interpreters are warmed per organization and never serve another one. */
  orgId: string;
}

export interface RunError {
  message: string;
  traceback: string;
}

export interface RunResult {
  /**
   * succeeded: the handler returned; failed: it threw, or hit a limit, or tried something the
   * sandbox refuses. 'expired' (TTL passed while pending or running) is decided by the queue
   * that owns the run record, never by the sandbox.
   */
  status: 'succeeded' | 'failed' | 'expired';
  /** The handler's return value as JSON (undefined return becomes null). */
  output?: unknown;
  error?: RunError;
  /** console.* / print output, capped at limits.logBytes, secrets masked. */
  logs: string;
  durationMs: number;
  /** What the run cost its process, sampled from /proc (Linux); for measurements and metrics. */
  usage: { cpuMs: number | null; peakRssMiB: number | null; coldStart: boolean };
}

export interface SandboxSettings {
  /** The webhook SSRF policy: the same switch and allowlist govern a handler's fetch. */
  targets: TargetPolicy;
  /** LABELCAST_HTTP_PROXY, as for webhooks. */
  proxyUrl?: string | undefined;
  /** Interpreter processes at most (each Pyodide one is ~170 MiB resident). */
  maxProcesses: number;
  /** A process is replaced after this many runs, so state a handler left behind does not pile up. */
  maxRunsPerProcess: number;
  /** An idle process is stopped after this long. */
  idleMs: number;
  /** Timeout of one host fetch (the webhook default is 30 s); never past the run's wall clock. */
  fetchTimeoutMs: number;
  /** Response bodies a handler's fetch receives are cut here. */
  fetchBodyLimit: number;
  /** Budget for a process to load its interpreter before it is considered broken. */
  bootTimeoutMs: number;
}

export const DEFAULT_LIMITS: RunLimits = { memoryMiB: 128, cpuMs: 10_000, wallMs: 60_000, logBytes: 64 * 1024 };

export function sandboxSettings(targets: TargetPolicy, over: Partial<Omit<SandboxSettings, 'targets'>> = {}): SandboxSettings {
  return {
    targets,
    proxyUrl: over.proxyUrl,
    maxProcesses: over.maxProcesses ?? 4,
    maxRunsPerProcess: over.maxRunsPerProcess ?? 200,
    idleMs: over.idleMs ?? 5 * 60_000,
    fetchTimeoutMs: over.fetchTimeoutMs ?? 30_000,
    fetchBodyLimit: over.fetchBodyLimit ?? 1024 * 1024,
    bootTimeoutMs: over.bootTimeoutMs ?? 30_000,
  };
}

/** Messages between the pool and an interpreter process (IPC), and over the host-call pipe. */
export type ToChild = { t: 'run'; id: number; code: string; event: unknown; context: unknown; secrets: Record<string, string>; limits: RunLimits };
export type FromChild =
  | { t: 'ready'; bootMs: number }
  | { t: 'done'; id: number; ok: boolean; output?: unknown; message?: string; traceback?: string; logs: string; fatal: boolean };
export interface HostFetchRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
}
export type HostFetchResponse = { status: number; headers: Record<string, string>; body: string } | { error: string };
