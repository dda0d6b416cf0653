// The custom-action sandbox (issue 13): handlers in JavaScript (QuickJS) and Python (Pyodide)
// run in permission-restricted child processes. Every escape attempt ends in a failed run with
// a clear message, and the pool then runs the next handler fine. Needs `npm run build` first:
// the interpreter processes run the compiled worker from dist/.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllowlist } from '../../../src/model/addresses.js';
import { createSandboxPool, runAction, type SandboxPool } from '../../../src/transports/sandbox/pool.js';
import { sandboxSettings, type ActionLanguage, type RunLimits, type RunRequest } from '../../../src/transports/sandbox/types.js';
import { startReceiver, type Receiver } from '../../helpers/receiver.js';
import seedEvent from '../../fixtures/seeds/superannotate-custom-action-input.json' with { type: 'json' };

// A value only the host's environment holds: no handler may read it.
const SENTINEL = 'LABELCAST_SANDBOX_SENTINEL';
process.env[SENTINEL] = 'host-environment-only';
const SECRET = 'sk-live-0123456789abcdef';
const REPO_FILE = path.resolve('package.json');
const LIMITS: RunLimits = { memoryMiB: 64, cpuMs: 1500, wallMs: 10_000, logBytes: 4096 };
const closed = { allowPrivate: false, allowlist: null };

// The seed's (004) context for "project c".
const seedContext = {
  op: 'c',
  after: {
    id: 0, name: 'MyProject', type: 'Vector', status: 'NotStarted', options: 0, team_id: 0, createdAt: 1718965118000, deletedAt: 0,
    is_pinned: false, updatedAt: 1718965118000, creator_id: '[email protected]', description: null, upload_state: 'Initial',
    entropy_status: 'NotStarted', sharing_status: null, attachment_name: null, attachment_path: null, custom_editor_url: null,
  },
  ts_ms: 1718965118466,
  before: null,
};

function request(language: ActionLanguage, code: string, over: Partial<RunRequest> = {}): RunRequest {
  return { language, code, event: { ...seedEvent, n: 7 }, context: seedContext, secrets: { API_TOKEN: SECRET }, limits: LIMITS, orgId: 'org-1', ...over };
}

const HEALTHY: Record<ActionLanguage, string> = {
  javascript: 'function handler(event, context) { return { ok: true, n: event.n, op: context.op } }',
  python: 'def handler(event, context):\n    return {"ok": True, "n": event["n"], "op": context["op"]}',
};

// PORT is replaced by a TCP listener on 127.0.0.1 that counts connections: none may arrive.
const ESCAPES: Record<ActionLanguage, [string, string, RegExp][]> = {
  javascript: [
    ['read /etc/passwd', `function handler() { return require('fs').readFileSync('/etc/passwd', 'utf8') }`, /'require' is not defined/],
    ['read a repository file through import()', `async function handler() { const fs = await import('node:fs'); return fs.readFileSync(${JSON.stringify(REPO_FILE)}, 'utf8') }`, /could not load module 'node:fs'/],
    ['read the host environment', `function handler() { return process.env.${SENTINEL} }`, /'process' is not defined/],
    ['reach Node through the Function constructor', `function handler() { const g = (function () {}).constructor('return this')(); if (!g.process) throw new Error('no process in here'); return g.process.env }`, /no process in here/],
    ['require child_process', `function handler() { return require('child_process') }`, /'require' is not defined/],
    ['open a socket', `async function handler() { const net = await import('net'); return net.connect(PORT, '127.0.0.1') }`, /could not load module 'net'/],
    ['spawn a process', `function handler() { return require('child_process').spawnSync('id').stdout }`, /'require' is not defined/],
    ['allocate without bound', `function handler() { const a = []; for (;;) a.push(new Array(1e5).fill(1)) }`, /memory limit|out of memory/],
    ['loop forever', `function handler() { for (;;) {} }`, /CPU time limit of 1500 ms/],
    ['recurse without bound', `function handler() { function f() { return f() + 1 } return f() }`, /stack overflow/],
    ['fetch the loopback', `async function handler() { return (await fetch('http://127.0.0.1:PORT/')).status }`, /fetch to 127\.0\.0\.1:\d+ refused: .*LABELCAST_ALLOW_PRIVATE_TARGETS/],
    ['fetch the cloud metadata address', `async function handler() { return (await fetch('http://169.254.169.254/latest/meta-data/')).status }`, /fetch to 169\.254\.169\.254 refused/],
  ],
  python: [
    ['read /etc/passwd', `def handler(event, context):\n    return open('/etc/passwd').read()`, /FileNotFoundError/],
    ['read a repository file', `def handler(event, context):\n    return open(${JSON.stringify(REPO_FILE)}).read()`, /FileNotFoundError/],
    ['read the host environment', `import os\ndef handler(event, context):\n    return os.environ['${SENTINEL}']`, new RegExp(`KeyError: '${SENTINEL}'`)],
    ['read process.env through js', `import js\ndef handler(event, context):\n    return js.process.env.${SENTINEL}`, /AttributeError: process/],
    ['reach the Pyodide runtime', `import pyodide_js\ndef handler(event, context):\n    return pyodide_js.FS.readdir('/')`, /No module named 'pyodide_js'/],
    ['run JavaScript', `from pyodide.code import run_js\ndef handler(event, context):\n    return run_js('process.env')`, /cannot import name 'eval' from 'js'/],
    ['reach Node through the Function constructor', `import js\ndef handler(event, context):\n    return js.labelcast_fetch.constructor('return process')().env`, /Code generation from strings disallowed/],
    ['walk the JavaScript stack through V8\'s stack-trace hook', `import js\nfrom pyodide.ffi import JsException, create_proxy\ndef handler(event, context):\n    try:\n        js.labelcast_fetch.constructor('return 1')\n    except JsException as e:\n        e.js_error.constructor.__proto__.prepareStackTrace = create_proxy(lambda err, frames: [f.getThis() for f in frames])\n    return 'stack hook set'`, /Cannot assign to read only property 'prepareStackTrace'/],
    ['import subprocess and run a program', `import subprocess\ndef handler(event, context):\n    return subprocess.run(['id'], capture_output=True).stdout`, /does not support processes/],
    ['spawn through os.system', `import os\ndef handler(event, context):\n    return os.system('id')`, /Access to this API has been restricted/],
    ['open a socket', `import socket\ndef handler(event, context):\n    return str(socket.create_connection(('127.0.0.1', PORT), timeout=2))`, /OSError/],
    ['allocate without bound', `def handler(event, context):\n    x = []\n    while True:\n        x.append(bytearray(10 ** 7))`, /memory limit of 64 MiB|MemoryError/],
    ['loop forever', `def handler(event, context):\n    while True:\n        pass`, /CPU time limit of 1500 ms/],
    ['recurse without bound', `def handler(event, context):\n    def f():\n        return f() + 1\n    return f()`, /RecursionError|stack/],
    ['fetch the loopback', `import requests\ndef handler(event, context):\n    return requests.get('http://127.0.0.1:PORT/').text`, /ConnectionError: fetch to 127\.0\.0\.1:\d+ refused/],
    ['fetch the cloud metadata address', `import requests\ndef handler(event, context):\n    return requests.get('http://169.254.169.254/latest/meta-data/').text`, /fetch to 169\.254\.169\.254 refused/],
  ],
};

let pool: SandboxPool;
let tcp: net.Server;
let port = 0;
let connections = 0;

beforeAll(async () => {
  pool = createSandboxPool(sandboxSettings(closed, { maxProcesses: 2 }));
  tcp = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
  port = (tcp.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await pool?.close();
  await new Promise((resolve) => tcp.close(resolve));
});

describe.each(['javascript', 'python'] as const)('%s handlers', (language) => {
  it.each(ESCAPES[language])('refuses to %s, then runs the next handler', async (_name, code, expected) => {
    const r = await runAction(pool, request(language, code.replaceAll('PORT', String(port))));
    expect(r.status).toBe('failed');
    expect(r.error?.message).toMatch(expected);
    expect(JSON.stringify(r)).not.toContain('host-environment-only');
    expect(JSON.stringify(r)).not.toContain(path.resolve('.'));
    const next = await runAction(pool, request(language, HEALTHY[language]));
    expect(next).toMatchObject({ status: 'succeeded', output: { ok: true, n: 7, op: 'c' } });
    expect(connections).toBe(0);
  });

  it('masks a printed, returned or raised secret in logs, output and error', async () => {
    const code = {
      javascript: `function handler(event) {
        console.log('token is', secrets.API_TOKEN);
        console.error(JSON.stringify({ t: secrets.API_TOKEN }));
        if (event.fail) throw new Error('bad token ' + secrets.API_TOKEN);
        return { echoed: secrets.API_TOKEN, [secrets.API_TOKEN]: 1 };
      }`,
      python: `import os, json\ndef handler(event, context):\n    print('token is', os.environ['API_TOKEN'])\n    print(json.dumps({'t': secrets['API_TOKEN']}))\n    if event.get('fail'):\n        raise ValueError('bad token ' + os.environ['API_TOKEN'])\n    return {'echoed': secrets['API_TOKEN'], secrets['API_TOKEN']: 1}`,
    }[language];
    const ok = await runAction(pool, request(language, code));
    expect(ok.status).toBe('succeeded');
    expect(ok.output).toEqual({ echoed: '********', '********': 1 });
    expect(ok.logs).toContain('token is ********');
    const failed = await runAction(pool, request(language, code, { event: { fail: true } }));
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toMatch(/bad token \*{8}/);
    for (const r of [ok, failed]) expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('returns the error with its traceback when the handler throws', async () => {
    const code = {
      javascript: 'function helper() { throw new TypeError("no such project") }\nfunction handler() { return helper() }',
      python: 'def helper():\n    raise LookupError("no such project")\n\ndef handler(event, context):\n    return helper()',
    }[language];
    const r = await runAction(pool, request(language, code));
    expect(r.status).toBe('failed');
    expect(r.error?.message).toMatch(/(TypeError|LookupError): no such project/);
    expect(r.error?.traceback).toMatch(/helper/);
    expect(r.error?.traceback).toMatch(/handler\.(js|py)/);
  });

  it('refuses an output too large for a run record', async () => {
    const code = {
      javascript: 'function handler() { return "x".repeat(2 * 1024 * 1024) }',
      python: 'def handler(event, context):\n    return "x" * (2 * 1024 * 1024)',
    }[language];
    const r = await runAction(pool, request(language, code, { limits: { ...LIMITS, memoryMiB: 128 } }));
    expect(r.status).toBe('failed');
    expect(r.error?.message).toMatch(/returned more than 1048576 bytes of JSON/);
  });

  if (language === 'python') {
    it('refuses an async def handler instead of returning its coroutine', async () => {
      const r = await runAction(pool, request('python', 'async def handler(event, context):\n    return 1'));
      expect(r.status).toBe('failed');
      expect(r.error?.message).toMatch(/async def handler is not supported/);
    });
  }

  it('refuses a fetch request too large to send, and recovers', async () => {
    const code = {
      javascript: 'async function handler() { return (await fetch("https://example.com/", { method: "POST", body: "x".repeat(9 * 1024 * 1024) })).status }',
      python: 'import requests\ndef handler(event, context):\n    return requests.post("https://example.com/", data="x" * (9 * 1024 * 1024)).status_code',
    }[language];
    const r = await runAction(pool, request(language, code, { limits: { ...LIMITS, memoryMiB: 128 } }));
    expect(r.status).toBe('failed');
    expect(r.error?.message).toMatch(/fetch request larger than 8388608 characters/);
    const next = await runAction(pool, request(language, HEALTHY[language]));
    expect(next.status).toBe('succeeded');
  });

  it('caps the captured logs', async () => {
    const code = {
      javascript: 'function handler() { for (let i = 0; i < 2000; i++) console.log("line " + i + " " + "x".repeat(80)); return 1 }',
      python: 'def handler(event, context):\n    for i in range(2000):\n        print("line", i, "x" * 80)\n    return 1',
    }[language];
    const r = await runAction(pool, request(language, code));
    expect(r.status).toBe('succeeded');
    expect(r.logs.startsWith('line 0 ')).toBe(true);
    expect(Buffer.byteLength(r.logs)).toBeLessThan(LIMITS.logBytes + 100);
    expect(r.logs).toMatch(/\[logs truncated: \d+ more bytes\]$/);
  });

  it('keeps an interpreter warm for one organization and never lends it to another', async () => {
    const mark = {
      javascript: 'function handler(event) { return { cold: true } }',
      python: 'import sys\ndef handler(event, context):\n    seen = getattr(sys, "labelcast_mark", None)\n    sys.labelcast_mark = event["mark"]\n    return {"seen": seen}',
    }[language];
    const a1 = await runAction(pool, request(language, mark, { orgId: 'org-a', event: { mark: 'a' } }));
    const a2 = await runAction(pool, request(language, mark, { orgId: 'org-a', event: { mark: 'a2' } }));
    const b1 = await runAction(pool, request(language, mark, { orgId: 'org-b', event: { mark: 'b' } }));
    expect([a1.status, a2.status, b1.status]).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(a2.usage.coldStart).toBe(false);
    expect(b1.usage.coldStart).toBe(true);
    if (language === 'python') {
      // Module state persists within an organization's interpreter, never across organizations.
      expect(a2.output).toEqual({ seen: 'a' });
      expect(b1.output).toEqual({ seen: null });
    }
  });
});

describe('host fetch with a private-target allowance (as the webhook tests use)', () => {
  let open: SandboxPool;
  let rx: Receiver;

  beforeAll(async () => {
    open = createSandboxPool(sandboxSettings({ allowPrivate: false, allowlist: parseAllowlist('127.0.0.1') }, { maxProcesses: 2 }));
    rx = await startReceiver((req, _n, res) => {
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ stored: true, project: req.json?.project }));
    });
  });

  afterAll(async () => {
    await open?.close();
    await rx?.close();
  });

  it('runs a JavaScript handler that posts to a receiver with a mounted secret and returns JSON', async () => {
    const code = `async function handler(event, context) {
      const res = await fetch(secrets.RECEIVER_URL + '/notes', {
        method: 'POST',
        headers: { authorization: 'Bearer ' + secrets.API_TOKEN, 'content-type': 'application/json' },
        body: JSON.stringify({ event: event.event, project: context.after.name }),
      });
      console.log('receiver answered', res.status);
      return { status: res.status, reply: await res.json() };
    }`;
    const r = await runAction(open, request('javascript', code, { secrets: { API_TOKEN: SECRET, RECEIVER_URL: rx.url } }));
    expect(r).toMatchObject({ status: 'succeeded', output: { status: 201, reply: { stored: true, project: 'MyProject' } } });
    expect(r.logs).toBe('receiver answered 201');
    const got = rx.received.at(-1)!;
    expect(got.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(got.json).toEqual({ event: 'project c', project: 'MyProject' });
  });

  it('runs a SuperAnnotate-style Python handler (os.environ secrets, requests) unchanged', async () => {
    // The shape SuperAnnotate's custom-action editor starts from: a module-level handler reading
    // its secrets from the environment and calling an external API with requests.
    const code = [
      'import os',
      'import requests',
      '',
      '',
      'def handler(event, context):',
      '    token = os.environ["API_TOKEN"]',
      '    project = context["after"]',
      '    response = requests.post(',
      '        f"{os.environ[\'RECEIVER_URL\']}/notes",',
      '        headers={"Authorization": f"Bearer {token}"},',
      '        json={"event": event["event"], "project": project["name"], "pipeline_id": event["pipeline_id"]},',
      '        timeout=10,',
      '    )',
      '    response.raise_for_status()',
      '    print(f"receiver answered {response.status_code}")',
      '    return {"status": response.status_code, "reply": response.json()}',
    ].join('\n');
    const r = await runAction(open, request('python', code, { secrets: { API_TOKEN: SECRET, RECEIVER_URL: rx.url } }));
    expect(r).toMatchObject({ status: 'succeeded', output: { status: 201, reply: { stored: true, project: 'MyProject' } } });
    expect(r.logs).toBe('receiver answered 201');
    const got = rx.received.at(-1)!;
    expect(got.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.json).toEqual({ event: 'project c', project: 'MyProject', pipeline_id: 5249 });
  });

  it('kills a run past its wall clock while it waits on a fetch, and recovers', async () => {
    rx.behave(() => new Promise(() => undefined)); // never answers
    try {
      const code = `async function handler() { await fetch(secrets.RECEIVER_URL + '/slow'); return 1 }`;
      const r = await runAction(open, request('javascript', code, { secrets: { RECEIVER_URL: rx.url }, limits: { ...LIMITS, wallMs: 800 } }));
      expect(r.status).toBe('failed');
      expect(r.error?.message).toBe('the handler ran longer than its wall-clock limit of 800 ms');
      expect(r.durationMs).toBeLessThan(3000);
    } finally {
      rx.behave((_r, _n, res) => res.writeHead(200).end('{}'));
    }
    const next = await runAction(open, request('javascript', HEALTHY.javascript));
    expect(next.status).toBe('succeeded');
  });
});

describe('pool', () => {
  it('starts interpreter processes with an empty environment under the permission model', async () => {
    const fresh = createSandboxPool(sandboxSettings(closed, { maxProcesses: 1 }));
    try {
      await runAction(fresh, request('javascript', HEALTHY.javascript));
      const [pid] = fresh.stats().pids;
      // Only what fork adds for its IPC channel: no PATH, no DATABASE_URL, no sentinel.
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
      expect(environ.every((e) => e.startsWith('NODE_CHANNEL_'))).toBe(true);
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain('--experimental-permission');
      expect(argv).toContain('--disallow-code-generation-from-strings');
      expect(argv.some((a) => a.startsWith('--allow-child-process') || a.startsWith('--allow-worker') || a.startsWith('--allow-fs-write') || a.startsWith('--allow-addons'))).toBe(false);
      const reads = argv.filter((a) => a.startsWith('--allow-fs-read=')).map((a) => a.slice('--allow-fs-read='.length));
      // The interpreters' own packages and the worker's folder, nothing above them.
      expect(reads.every((r) => /node_modules\/(pyodide|quickjs-emscripten-core|@jitl\/quickjs-[a-z-]+)\/\*$|transports\/sandbox\/\*$/.test(r))).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('replaces a process after its number of runs, and queues runs beyond its size', async () => {
    const small = createSandboxPool(sandboxSettings(closed, { maxProcesses: 1, maxRunsPerProcess: 2 }));
    try {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await runAction(small, request('javascript', HEALTHY.javascript)));
      expect(runs.map((r) => r.usage.coldStart)).toEqual([true, false, true]);
      // One process, two organizations at once: the second waits, then gets its own process.
      const both = await Promise.all(['org-x', 'org-y'].map((orgId) => runAction(small, request('javascript', HEALTHY.javascript, { orgId }))));
      expect(both.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
      expect(small.stats().processes).toBeLessThanOrEqual(1);
    } finally {
      await small.close();
    }
  });
});
