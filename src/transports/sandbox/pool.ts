// The pool of interpreter processes that runs custom actions (issue 13, "Isolation"). Each
// process holds one warm interpreter for one (organization, language) and runs one handler at
// a time; the pool enforces what the interpreter cannot: wall clock, CPU time and resident
// memory of the process (sampled from /proc), killing and replacing a process past a limit,
// after a fatal error, or after a number of runs. Handler fetches are performed here.
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHostFetch, type HostFetch } from './host-fetch.js';
import { capBytes, maskJson, masker } from './mask.js';
import type { ActionLanguage, FromChild, HostFetchRequest, RunRequest, RunResult, SandboxSettings, ToChild } from './types.js';

/** Resident memory a process may use above its idle size before the memory cap is exceeded,
 *  on top of the run's own cap: room for the host-call buffers and the interpreter's bookkeeping. */
const RSS_SLACK_MIB = 32;
/** The longest host-call line (a fetch request with its body) the pool accepts. */
const HOST_CALL_LIMIT_CHARS = 8 * 1024 * 1024;
/** Growth over its start-up size after which an idle process is replaced. */
const GROWN_MIB = 192;
/** How often the pool samples a busy process's CPU time and resident memory. */
const SAMPLE_MS = 25;
/** A run's JSON output is kept in its run record; past this it is refused, not truncated. */
export const OUTPUT_LIMIT_BYTES = 1024 * 1024;
const WALL_CLOCK_MARGIN_MS = 250;
/** V8 heap of an interpreter process: handler memory lives in WebAssembly memory, outside it. */
const V8_HEAP_MIB = 96;

export interface SandboxPool {
  run(req: RunRequest): Promise<RunResult>;
  /** Processes now, by state; for metrics and tests. */
  stats(): { processes: number; busy: number; waiting: number; started: number; pids: number[] };
  close(): Promise<void>;
}

interface Proc {
  key: string;
  orgId: string;
  language: ActionLanguage;
  child: ChildProcess;
  ready: Promise<void>;
  busy: boolean;
  dead: boolean;
  runs: number;
  idleTimer?: NodeJS.Timeout;
  bootRssMiB: number | null;
  onMessage?: (m: FromChild) => void;
  onExit?: (why: string) => void;
  onHostCallOverflow?: () => void;
  stderrTail: string;
  /** Epoch ms when the current run's wall clock ends; bounds its host fetches. */
  deadline?: number | undefined;
}

/** Entry points and the read-only directories an interpreter process may read. */
function pkgDirOf(require: NodeRequire, name: string): string {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json')) || path.basename(dir) === 'dist') dir = path.dirname(dir);
  return dir;
}

function interpreterFiles(): { worker: string; entries: Record<ActionLanguage, string[]>; readable: string[]; root: string } {
  const here = fileURLToPath(import.meta.url);
  // Under the test runner this module is TypeScript in src/; the process needs the compiled
  // worker in dist/ (npm run build), since Node 20 cannot run TypeScript.
  const worker = here.endsWith('.ts') ? path.resolve(path.dirname(here), '../../../dist/transports/sandbox/worker.js') : path.join(path.dirname(here), 'worker.js');
  const require = createRequire(import.meta.url);
  // The package folder: walk up from its main entry (not every package exports package.json).
  const pkgDir = (name: string) => pkgDirOf(require, name);
  // QuickJS: the core plus the one build we run (release, synchronous; the asyncify builds are
  // twice the size and we need no async host calls, see host-call.ts).
  const core = pkgDir('quickjs-emscripten-core');
  const variant = pkgDir('@jitl/quickjs-wasmfile-release-sync');
  const ffiTypes = pkgDirOf(createRequire(path.join(core, 'package.json')), '@jitl/quickjs-ffi-types');
  const pyodide = pkgDir('pyodide');
  const readable = [path.dirname(worker), core, variant, ffiTypes, pyodide];
  return {
    worker,
    root: pathToFileURL(path.resolve(path.dirname(worker), '../../..')).href.replace(/^file:\/\//, ''),
    entries: {
      javascript: [pathToFileURL(path.join(core, 'dist/index.mjs')).href, pathToFileURL(path.join(variant, 'dist/index.mjs')).href],
      python: [pathToFileURL(path.join(pyodide, 'pyodide.mjs')).href],
    },
    readable,
  };
}

/** CPU time (ms) and resident memory (MiB) of a process, from /proc; null where there is none. */
function sample(pid: number): { cpuMs: number; rssMiB: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 (1-based) of stat, in clock ticks (USER_HZ = 100 on Linux).
    const ticks = Number(fields[11]) + Number(fields[12]);
    const statm = fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ');
    const rssPages = Number(statm[1]);
    return { cpuMs: ticks * 10, rssMiB: (rssPages * 4096) / (1024 * 1024) };
  } catch {
    return null;
  }
}

export function createSandboxPool(settings: SandboxSettings): SandboxPool {
  const files = interpreterFiles();
  const hostFetch: HostFetch = createHostFetch(settings);
  const procs = new Set<Proc>();
  const waiting: Array<() => void> = [];
  let started = 0;
  let nextId = 1;
  let closed = false;

  function spawn(orgId: string, language: ActionLanguage): Proc {
    started++;
    const execArgv = [
      '--experimental-permission',
      ...files.readable.map((d) => `--allow-fs-read=${d}${path.sep}*`),
      '--disallow-code-generation-from-strings',
      `--max-old-space-size=${V8_HEAP_MIB}`,
      '--no-warnings',
    ];
    // env {}: nothing of Labelcast's environment (database URL, sealing key) exists in there.
    const child = fork(files.worker, [language, ...files.entries[language]], { env: {}, execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc', 'pipe'], serialization: 'json' });
    const p: Proc = { key: `${orgId}\u0000${language}`, orgId, language, child, busy: true, dead: false, runs: 0, bootRssMiB: null, stderrTail: '', ready: Promise.resolve() };
    child.stderr?.on('data', (d: Buffer) => {
      p.stderrTail = (p.stderrTail + d.toString('utf8')).slice(-2000);
    });
    p.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        kill(p);
        reject(new Error(`the ${language} interpreter did not start within ${settings.bootTimeoutMs} ms`));
      }, settings.bootTimeoutMs);
      p.onMessage = (m) => {
        if (m.t === 'ready') {
          clearTimeout(timer);
          p.bootRssMiB = sample(child.pid!)?.rssMiB ?? null;
          resolve();
        }
      };
      p.onExit = (why) => {
        clearTimeout(timer);
        reject(new Error(`the ${language} interpreter did not start (${why}) ${p.stderrTail.trim().split('\n').filter((l) => !l.startsWith('    at ') || /resource/.test(l)).slice(-4).join(' | ')}`.trim()));
      };
    });
    p.ready.catch(() => undefined);
    child.on('message', (m: FromChild) => p.onMessage?.(m));
    child.on('exit', (code, signal) => {
      p.dead = true;
      procs.delete(p);
      p.onExit?.(signal ? `killed by ${signal}` : `exited with code ${code}`);
      wake();
    });
    child.on('error', () => kill(p));
    serveHostCalls(p);
    procs.add(p);
    return p;
  }

  // Host-call pipe: one JSON request per line, answered with one JSON line (host-call.ts).
  function serveHostCalls(p: Proc): void {
    const pipe = p.child.stdio[4] as Duplex | null;
    if (!pipe) return;
    let buffered = '';
    const decoder = new StringDecoder('utf8');
    pipe.on('error', () => undefined);
    pipe.on('data', (d: Buffer) => {
      buffered += decoder.write(d);
      // A request body is a string the handler built inside its memory cap; a line longer than
      // this is not a request we will send.
      if (buffered.length > HOST_CALL_LIMIT_CHARS) {
        buffered = '';
        p.onHostCallOverflow?.();
        return kill(p);
      }
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        void answer(p, pipe, line);
      }
    });
  }

  async function answer(p: Proc, pipe: Duplex, line: string): Promise<void> {
    let req: HostFetchRequest;
    try {
      req = JSON.parse(line) as HostFetchRequest;
    } catch {
      return kill(p); // not our worker speaking
    }
    // A fetch may last until just past the run's wall clock, never to it: the wall-clock kill
    // must decide a run that is still waiting, or a fetch timing out at the same instant races
    // it and the run fails as "fetch failed" instead of "ran longer than its limit".
    const res = await hostFetch.fetch(req, p.deadline ? p.deadline - Date.now() + WALL_CLOCK_MARGIN_MS : settings.fetchTimeoutMs);
    if (!p.dead) pipe.write(JSON.stringify(res) + '\n');
  }

  function kill(p: Proc): void {
    p.dead = true;
    procs.delete(p);
    if (p.idleTimer) clearTimeout(p.idleTimer);
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    wake();
  }

  function wake(): void {
    const w = waiting.shift();
    if (w) w();
  }

  /** A ready process for this organization and language, starting or replacing one if needed. */
  async function acquire(orgId: string, language: ActionLanguage): Promise<{ p: Proc; cold: boolean }> {
    const key = `${orgId}\u0000${language}`;
    for (;;) {
      if (closed) throw new Error('the sandbox pool is closed');
      for (const p of procs) {
        if (p.key === key && !p.busy && !p.dead) {
          p.busy = true;
          if (p.idleTimer) clearTimeout(p.idleTimer);
          return { p, cold: false };
        }
      }
      if (procs.size >= settings.maxProcesses) {
        // Make room by stopping an idle process of another organization or language
        // (interpreters are never handed across organizations).
        const idle = [...procs].find((p) => !p.busy && !p.dead);
        if (idle) kill(idle);
      }
      if (procs.size < settings.maxProcesses) {
        const p = spawn(orgId, language);
        await p.ready;
        return { p, cold: true };
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  }

  function release(p: Proc, recycle: boolean): void {
    p.busy = false;
    p.deadline = undefined;
    // WebAssembly memory never shrinks: a process that grew well past its start-up size (a
    // handler that kept data in module state) is replaced rather than kept warm.
    const grown = p.bootRssMiB !== null && (sample(p.child.pid!)?.rssMiB ?? 0) > p.bootRssMiB + GROWN_MIB;
    if (recycle || grown || p.runs >= settings.maxRunsPerProcess || p.dead) kill(p);
    else {
      p.idleTimer = setTimeout(() => kill(p), settings.idleMs);
      p.idleTimer.unref();
      wake();
    }
  }

  async function run(req: RunRequest): Promise<RunResult> {
    const secretsMask = masker(req.secrets);
    // Pyodide puts JavaScript frames into Python tracebacks: show where Labelcast is installed
    // as <sandbox>, not as a host path.
    const mask = (text: string) => secretsMask(text).split(files.root).join('<sandbox>');
    const startedAt = performance.now();
    const finish = (r: { ok: boolean; output?: unknown; message?: string; traceback?: string; logs: string }, usage: RunResult['usage']): RunResult => {
      if (r.ok && Buffer.byteLength(JSON.stringify(r.output ?? null)) > OUTPUT_LIMIT_BYTES) {
        r = { ok: false, message: `the handler returned more than ${OUTPUT_LIMIT_BYTES} bytes of JSON; return a summary and log or send the rest`, logs: r.logs };
      }
      return {
      status: r.ok ? 'succeeded' : 'failed',
      ...(r.ok ? { output: maskJson(r.output ?? null, mask) } : { error: { message: mask(r.message ?? 'the handler failed'), traceback: mask(r.traceback ?? '') } }),
      logs: capBytes(mask(r.logs), req.limits.logBytes),
      durationMs: Math.round((performance.now() - startedAt) * 10) / 10,
      usage,
      };
    };
    let acquired: { p: Proc; cold: boolean };
    try {
      acquired = await acquire(req.orgId, req.language);
    } catch (err) {
      return finish({ ok: false, message: (err as Error).message, logs: '' }, { cpuMs: null, peakRssMiB: null, coldStart: true });
    }
    const { p, cold } = acquired;
    p.runs++;
    const id = nextId++;
    const before = sample(p.child.pid!);
    const rssCap = (before?.rssMiB ?? 0) + req.limits.memoryMiB + RSS_SLACK_MIB;
    let peak = before?.rssMiB ?? null;
    let cpuUsed: number | null = null;
    p.deadline = Date.now() + req.limits.wallMs;
    return new Promise<RunResult>((resolve) => {
      let settled = false;
      const done = (r: Parameters<typeof finish>[0], recycle: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(wall);
        clearInterval(watch);
        p.onMessage = undefined;
        p.onExit = undefined;
        p.onHostCallOverflow = undefined;
        if (recycle) kill(p);
        resolve(finish(r, { cpuMs: cpuUsed, peakRssMiB: peak === null ? null : Math.round(peak * 10) / 10, coldStart: cold }));
        if (!recycle) release(p, false);
      };
      const wall = setTimeout(() => done({ ok: false, message: `the handler ran longer than its wall-clock limit of ${req.limits.wallMs} ms`, logs: '' }, true), req.limits.wallMs);
      // The interpreter enforces its own limits where it can (QuickJS: heap, stack, CPU via its
      // interrupt handler); these samples are the wall for everything else (Pyodide's
      // WebAssembly memory and a Python loop that never yields).
      const watch = setInterval(() => {
        const s = sample(p.child.pid!);
        if (!s || !before) return;
        peak = Math.max(peak ?? 0, s.rssMiB);
        cpuUsed = s.cpuMs - before.cpuMs;
        // A little grace over the interpreter's own CPU check, so QuickJS reports its own error.
        if (cpuUsed > req.limits.cpuMs + 250) done({ ok: false, message: `the handler used more than its CPU time limit of ${req.limits.cpuMs} ms`, logs: '' }, true);
        else if (s.rssMiB > rssCap) done({ ok: false, message: `the handler exceeded its memory limit of ${req.limits.memoryMiB} MiB`, logs: '' }, true);
      }, SAMPLE_MS);
      p.onExit = (why) => done({ ok: false, message: `the sandbox process ended during the run (${why})`, logs: '' }, true);
      p.onHostCallOverflow = () => done({ ok: false, message: `the handler sent a fetch request larger than ${HOST_CALL_LIMIT_CHARS} characters`, logs: '' }, true);
      p.onMessage = (m) => {
        if (m.t !== 'done' || m.id !== id) return;
        const s = sample(p.child.pid!);
        if (s && before) {
          peak = Math.max(peak ?? 0, s.rssMiB);
          cpuUsed = s.cpuMs - before.cpuMs;
        }
        if (m.fatal) done(m, true);
        else done(m, false);
      };
      const msg: ToChild = { t: 'run', id, code: req.code, event: req.event, context: req.context, secrets: req.secrets, limits: req.limits };
      p.child.send(msg, (err) => {
        if (err) done({ ok: false, message: `could not hand the run to the sandbox process: ${err.message}`, logs: '' }, true);
      });
    });
  }

  return {
    run,
    stats: () => ({ processes: procs.size, busy: [...procs].filter((p) => p.busy).length, waiting: waiting.length, started, pids: [...procs].map((p) => p.child.pid!) }),
    async close() {
      // Idempotent: a server's close may run twice (a test's cleanup after its own close).
      if (closed) return;
      closed = true;
      for (const p of [...procs]) kill(p);
      for (const w of waiting.splice(0)) w();
      await hostFetch.close();
    },
  };
}

/** The call the delivery pipeline makes for one custom-action run. */
export function runAction(pool: SandboxPool, req: RunRequest): Promise<RunResult> {
  return pool.run(req);
}
