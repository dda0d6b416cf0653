// JavaScript handlers in QuickJS compiled to WebAssembly (quickjs-emscripten): the handler sees
// only what is defined below (console, fetch, secrets, event, context), never Node's globals.
// A fresh runtime per run, so nothing one run leaves behind reaches the next; creating one
// costs well under a millisecond once the module is loaded (docs/custom-actions-sandbox.md).
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from 'quickjs-emscripten-core';
import { LogBuffer, type HostCall } from './host-call.js';
import type { ToChild } from './types.js';

export interface ChildOutcome {
  ok: boolean;
  output?: unknown;
  message?: string;
  traceback?: string;
  logs: string;
  /** The interpreter may be damaged: the pool replaces this process. */
  fatal: boolean;
}

export interface Runner {
  run(m: ToChild): ChildOutcome;
}

/** QuickJS's own stack cap: deep recursion ends in a catchable RangeError-like error. */
const STACK_BYTES = 256 * 1024;

// Runs inside QuickJS before the handler. Formats like Node's console closely enough for logs,
// and shapes the host's answer like a WHATWG Response so handlers written for fetch work.
const PRELUDE = String.raw`
(() => {
  const fmt = (a) => {
    if (typeof a === 'string') return a;
    if (a instanceof Error) return a.stack ? a.name + ': ' + a.message + '\n' + a.stack : a.name + ': ' + a.message;
    try { const s = JSON.stringify(a); return s === undefined ? String(a) : s; } catch { return String(a); }
  };
  const log = globalThis.__lc_log, hostFetch = globalThis.__lc_fetch;
  const console = {};
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace']) console[level] = (...args) => log(level, args.map(fmt).join(' '));
  globalThis.console = console;
  const headerObject = (h) => {
    const out = {};
    if (!h) return out;
    const entries = Array.isArray(h) ? h : typeof h.entries === 'function' && !(h.constructor === Object) ? [...h.entries()] : Object.entries(h);
    for (const [k, v] of entries) out[String(k)] = String(v);
    return out;
  };
  globalThis.fetch = async (input, init = {}) => {
    const req = { url: String(typeof input === 'object' && input && input.url ? input.url : input), method: String(init.method || 'GET'), headers: headerObject(init.headers), body: init.body == null ? null : String(init.body) };
    const res = JSON.parse(hostFetch(JSON.stringify(req)));
    if (res.error) throw new TypeError(res.error);
    const headers = res.headers;
    return {
      status: res.status, ok: res.status >= 200 && res.status < 300, url: req.url,
      headers: { get: (n) => headers[String(n).toLowerCase()] ?? null, has: (n) => String(n).toLowerCase() in headers, entries: () => Object.entries(headers)[Symbol.iterator]() },
      text: async () => res.body,
      json: async () => JSON.parse(res.body),
    };
  };
  const input = JSON.parse(globalThis.__lc_input());
  globalThis.secrets = Object.freeze(input.secrets);
  globalThis.__lc_event = input.event;
  globalThis.__lc_context = input.context;
  globalThis.module = { exports: {} };
  globalThis.exports = globalThis.module.exports;
  delete globalThis.__lc_log; delete globalThis.__lc_fetch; delete globalThis.__lc_input;
})();
`;

const CALL = `(async () => {
  const h = typeof handler === 'function' ? handler : typeof module.exports === 'function' ? module.exports : module.exports.handler;
  if (typeof h !== 'function') throw new TypeError('define a function handler(event, context)');
  const r = await h(__lc_event, __lc_context);
  return JSON.stringify(r === undefined ? null : r);
})()`;

export async function createJavascriptRunner(coreUrl: string, variantUrl: string, host: HostCall): Promise<Runner> {
  const core = (await import(coreUrl)) as typeof import('quickjs-emscripten-core');
  const variant = ((await import(variantUrl)) as { default: Parameters<typeof core.newQuickJSWASMModuleFromVariant>[0] }).default;
  const qjs: QuickJSWASMModule = await core.newQuickJSWASMModuleFromVariant(variant);
  return { run: (m) => runOnce(qjs, host, m) };
}

function runOnce(qjs: QuickJSWASMModule, host: HostCall, m: ToChild): ChildOutcome {
  const logs = new LogBuffer(m.limits.logBytes * 2 + 4096);
  let rt: QuickJSRuntime | undefined;
  let fatal = false;
  // CPU time = time spent inside the interpreter; waiting on a host fetch does not count.
  let used = 0;
  let sliceStart = 0;
  const slice = <T>(f: () => T): T => {
    sliceStart = performance.now();
    try {
      return f();
    } finally {
      used += performance.now() - sliceStart;
    }
  };
  const outcome = (o: Omit<ChildOutcome, 'logs' | 'fatal'>): ChildOutcome => ({ ...o, logs: logs.text(), fatal });
  try {
    rt = qjs.newRuntime();
    rt.setMemoryLimit(m.limits.memoryMiB * 1024 * 1024);
    rt.setMaxStackSize(STACK_BYTES);
    rt.setInterruptHandler(() => used + (performance.now() - sliceStart) > m.limits.cpuMs);
    const vm = rt.newContext();
    try {
      const fn = (name: string, f: (...args: QuickJSHandle[]) => QuickJSHandle | undefined) => {
        const h = vm.newFunction(name, f);
        vm.setProp(vm.global, name, h);
        h.dispose();
      };
      fn('__lc_log', (level, text) => {
        const l = vm.getString(level!);
        logs.add(l === 'log' || l === 'info' ? vm.getString(text!) : `[${l}] ${vm.getString(text!)}`);
        return undefined;
      });
      fn('__lc_fetch', (req) => vm.newString(JSON.stringify(host(JSON.parse(vm.getString(req!))))));
      fn('__lc_input', () => vm.newString(JSON.stringify({ event: m.event, context: m.context, secrets: m.secrets })));
      const prelude = slice(() => vm.evalCode(PRELUDE, 'labelcast-prelude.js'));
      vm.unwrapResult(prelude).dispose();
      const loaded = slice(() => vm.evalCode(m.code, 'handler.js'));
      if (loaded.error) return failure(vm, loaded.error, outcome, used, m.limits.cpuMs);
      loaded.value.dispose();
      const called = slice(() => vm.evalCode(CALL, 'labelcast-call.js'));
      if (called.error) return failure(vm, called.error, outcome, used, m.limits.cpuMs);
      const promise = called.value;
      try {
        while (rt.hasPendingJob()) {
          const r = slice(() => rt!.executePendingJobs());
          if (r.error) r.error.dispose();
          if (used > m.limits.cpuMs) break;
        }
        const state = vm.getPromiseState(promise);
        if (state.type === 'fulfilled') {
          const text = vm.getString(state.value);
          state.value.dispose();
          return outcome({ ok: true, output: JSON.parse(text) });
        }
        if (state.type === 'rejected') return failure(vm, state.error, outcome, used, m.limits.cpuMs);
        return outcome({ ok: false, message: used > m.limits.cpuMs ? cpuMessage(m.limits.cpuMs) : 'the handler awaited something that never settles (there is no setTimeout or event loop in the sandbox)', traceback: '' });
      } finally {
        promise.dispose();
      }
    } finally {
      try {
        vm.dispose();
      } catch {
        fatal = true; // a leaked handle after OOM: do not trust this module again
      }
    }
  } catch (err) {
    fatal = true;
    return outcome({ ok: false, message: `the JavaScript sandbox failed: ${(err as Error).message}`, traceback: '' });
  } finally {
    try {
      rt?.dispose();
    } catch {
      fatal = true;
    }
  }
}

function cpuMessage(cpuMs: number): string {
  return `the handler used more than its CPU time limit of ${cpuMs} ms`;
}

function failure(vm: QuickJSContext, handle: QuickJSHandle, outcome: (o: Omit<ChildOutcome, 'logs' | 'fatal'>) => ChildOutcome, used: number, cpuMs: number): ChildOutcome {
  let e: { name?: string; message?: string; stack?: string } | string;
  try {
    e = vm.dump(handle) as typeof e;
  } finally {
    handle.dispose();
  }
  if (typeof e !== 'object' || e === null) return outcome({ ok: false, message: `Uncaught ${JSON.stringify(e)}`, traceback: '' });
  const head = `${e.name ?? 'Error'}: ${e.message ?? ''}`;
  // QuickJS says "interrupted" for our CPU budget and "out of memory" for the heap cap: say which limit.
  const message = /interrupted/.test(head) && used >= cpuMs ? cpuMessage(cpuMs) : /out of memory/i.test(head) ? `${head} (the handler exceeded its memory limit)` : head;
  return outcome({ ok: false, message, traceback: `${head}\n${e.stack ?? ''}`.trimEnd() });
}
