// Entry of an interpreter process (forked by pool.ts). Started with an empty environment,
// Node's permission model (reads only of the interpreter packages and this folder; no
// writes, child processes, workers or addons) and code generation from strings disabled, so
// a handler that got out of the WebAssembly interpreter would still find nothing to read,
// nothing to run, and no Function constructor to reach Node's globals with.
//   argv: <language> <interpreter entry URLs...>
import fsConstants from 'node:fs';
import { createHostCall } from './host-call.js';
import { createJavascriptRunner, type Runner } from './run-javascript.js';
import { createPythonRunner } from './run-python.js';
import type { FromChild, ToChild } from './types.js';

const [language, ...entryUrls] = process.argv.slice(2);

// Nothing in this process may reach the network on its own: Pyodide would otherwise download
// packages with the process's fetch. A handler's requests go through the host call instead.
const refuse = () => Promise.reject(new TypeError('network access from the sandbox process is disabled'));
Object.defineProperty(globalThis, 'fetch', { value: refuse, writable: false, configurable: false });

// V8's stack-trace hook hands out the receiver and function of each frame (CallSite getThis /
// getFunction): a handler that reaches Error through a JsException could walk the stack with
// it. Pin it to "unset" before any handler runs; Node's own stack formatting does not need it.
Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });

// The permission model denies process.binding; Pyodide's Node file-system glue asks it for
// the open() flag constants only, which node:fs exports anyway.
const constants = { fs: fsConstants.constants };
Object.defineProperty(process, 'binding', {
  value: (name: string) => {
    if (name === 'constants') return constants;
    throw new Error(`process.binding('${name}') is not available in the sandbox`);
  },
});

function send(m: FromChild): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const started = performance.now();
  const host = createHostCall();
  let runner: Runner;
  if (language === 'javascript') runner = await createJavascriptRunner(entryUrls[0]!, entryUrls[1]!, host);
  else if (language === 'python') runner = await createPythonRunner(entryUrls[0]!, host);
  else throw new Error(`unknown language ${language}`);
  process.on('message', (m: ToChild) => {
    if (m.t !== 'run') return;
    const r = runner.run(m);
    send({ t: 'done', id: m.id, ...r });
  });
  send({ t: 'ready', bootMs: Math.round(performance.now() - started) });
}

main().catch((err) => {
  process.stderr.write(`sandbox process failed to start: ${(err as Error).message} ${(err as { resource?: string }).resource ?? ""}\n`);
  process.exit(70);
});
