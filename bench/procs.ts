// Child processes of the bench: the receiver, the ceiling's client, the peers' producers and
// workers, and Labelcast's producers each run in a process of their own (node:child_process
// fork of a compiled bench module), so that what is measured does not share its event loop
// with the harness. Parent and child talk over the IPC channel: the parent calls a named
// operation and awaits its answer; a child may also emit events (a wake-up, say).
// This module loads nothing from Labelcast, so a child that needs none of it stays small.
import { fork, type ChildProcess } from 'node:child_process';

interface Call { id: number; op: string; arg: unknown }
type Reply = { id: number; result?: unknown; error?: string } | { event: string; data?: unknown };

export interface Proc {
  readonly pid: number;
  call<T = unknown>(op: string, arg?: unknown): Promise<T>;
  /** Events the child emits (emit() below). */
  on(event: string, fn: (data: unknown) => void): void;
  /** Asks the child to close (its 'close' operation, if any), then ends it. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
// A bench that fails or times out leaves no child behind (the children also exit when the
// IPC channel closes, below).
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Ends every child still running: a scenario that failed or timed out leaves none to
 *  compete with the next one for the cores. */
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
}

/** Forks build/bench/<name>.js and resolves once it says it is ready. */
export async function startProc(name: string, args: string[] = []): Promise<Proc> {
  const child = fork(new URL(`./${name}.js`, import.meta.url), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: process.env });
  live.add(child);
  let next = 0;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Map<string, ((data: unknown) => void)[]>();
  const ready = new Promise<void>((resolve, reject) => {
    listeners.set('ready', [() => resolve()]);
    child.once('exit', (code, signal) => reject(new Error(`bench child ${name} exited before it was ready (${code ?? signal})`)));
  });
  child.on('message', (m: Reply) => {
    if ('event' in m) {
      for (const fn of listeners.get(m.event) ?? []) fn(m.data);
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(`${name}: ${m.error}`));
    else p.resolve(m.result);
  });
  child.on('exit', (code, signal) => {
    live.delete(child);
    for (const p of pending.values()) p.reject(new Error(`bench child ${name} exited (${code ?? signal})`));
    pending.clear();
  });
  await ready;
  const proc: Proc = {
    pid: child.pid!,
    call<T>(op: string, arg?: unknown): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, op, arg } satisfies Call);
      });
    },
    on(event, fn) {
      listeners.set(event, [...(listeners.get(event) ?? []), fn]);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await Promise.race([proc.call('close').catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
      child.kill('SIGKILL');
      await exited;
    },
  };
  return proc;
}

/** In a child: answer the parent's calls with these handlers, then say ready. */
export function serve(handlers: Record<string, (arg: any) => unknown>): void {
  process.on('message', async (m: Call) => {
    try {
      const h = handlers[m.op];
      if (!h) throw new Error(`no operation ${m.op}`);
      const result = await h(m.arg);
      process.send!({ id: m.id, result: result ?? null });
    } catch (err) {
      process.send!({ id: m.id, error: (err as Error).stack ?? String(err) });
    }
  });
  // The parent is gone (it failed, or was killed): leave no process behind.
  process.on('disconnect', () => process.exit(0));
  emit('ready');
}

export function emit(event: string, data?: unknown): void {
  process.send?.({ event, data });
}

/** Resolves when check() holds, polling every few ms (inside the child that owns the count). */
export function whenTrue(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const t = setInterval(() => {
      if (check()) {
        clearInterval(t);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(t);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 2);
  });
}

/** Peak RSS of this process, sampled. */
export function rssSampler(everyMs = 100) {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), everyMs);
  return {
    peakMiB: () => Math.round((Math.max(peak, process.memoryUsage().rss) / 1048576) * 10) / 10,
    stop: () => clearInterval(t),
  };
}
