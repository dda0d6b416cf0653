// Python handlers in Pyodide (CPython compiled to WebAssembly), stdlib only. Loading takes
// ~2.5 s, so one interpreter serves many runs of one organization; each run gets a fresh
// namespace, and the pool replaces the process after a fatal error or a number of runs.
import { LogBuffer, type HostCall } from './host-call.js';
import type { ChildOutcome, Runner } from './run-javascript.js';
import type { HostFetchRequest, ToChild } from './types.js';

// Installed once per interpreter. `requests` is a small stand-in for the library SuperAnnotate
// handlers use (get/post/... returning .status_code/.text/.json()), backed by the host fetch.
const PRELUDE = String.raw`
import sys, os, json, traceback, types, inspect

def _lc_install_requests():
    import js
    host_fetch = js.labelcast_fetch
    m = types.ModuleType('requests')

    class RequestException(IOError):
        pass
    class ConnectionError(RequestException):
        pass
    class HTTPError(RequestException):
        pass
    class Timeout(RequestException):
        pass

    class Response:
        def __init__(self, url, status, headers, text):
            self.url = url
            self.status_code = status
            self.headers = headers
            self.text = text
            self.content = text.encode('utf-8')
            self.ok = 200 <= status < 400
            self.reason = ''
        def json(self):
            return json.loads(self.text)
        def raise_for_status(self):
            if self.status_code >= 400:
                raise HTTPError(f'{self.status_code} error for url: {self.url}')
        def __repr__(self):
            return f'<Response [{self.status_code}]>'

    def request(method, url, params=None, data=None, json=None, headers=None, timeout=None, **_ignored):
        import json as _json
        from urllib.parse import urlencode
        h = {str(k): str(v) for k, v in (headers or {}).items()}
        if params:
            url = url + ('&' if '?' in url else '?') + urlencode(params, doseq=True)
        body = None
        if json is not None:
            body = _json.dumps(json)
            h.setdefault('Content-Type', 'application/json')
        elif isinstance(data, dict):
            body = urlencode(data, doseq=True)
            h.setdefault('Content-Type', 'application/x-www-form-urlencoded')
        elif isinstance(data, bytes):
            body = data.decode('utf-8')
        elif data is not None:
            body = str(data)
        res = _json.loads(host_fetch(_json.dumps({'url': str(url), 'method': method.upper(), 'headers': h, 'body': body})))
        if 'error' in res:
            raise ConnectionError(res['error'])
        return Response(str(url), res['status'], res['headers'], res['body'])

    m.request = request
    for verb in ('get', 'post', 'put', 'patch', 'delete', 'head', 'options'):
        setattr(m, verb, (lambda v: lambda url, **kw: request(v, url, **kw))(verb))
    m.Response = Response
    m.RequestException = RequestException
    m.ConnectionError = ConnectionError
    m.HTTPError = HTTPError
    m.Timeout = Timeout
    exceptions = types.ModuleType('requests.exceptions')
    for name in ('RequestException', 'ConnectionError', 'HTTPError', 'Timeout'):
        setattr(exceptions, name, getattr(m, name))
    m.exceptions = exceptions
    sys.modules['requests'] = m
    sys.modules['requests.exceptions'] = exceptions

_lc_install_requests()
del _lc_install_requests

# The Pyodide API object lets Python load packages over the network and mount host
# directories: take it out of reach (the process's permission model is the wall behind this).
sys.modules.pop('pyodide_js', None)

def _lc_run(code, event_json, context_json, secrets_json):
    secrets = json.loads(secrets_json)
    # Handlers written for SuperAnnotate read their secrets from the environment.
    os.environ.clear()
    os.environ.update(secrets)
    ns = {'__name__': '__main__', '__builtins__': __builtins__, 'secrets': dict(secrets)}
    try:
        exec(compile(code, 'handler.py', 'exec'), ns)
        h = ns.get('handler')
        if not callable(h):
            raise NameError('define a function handler(event, context)')
        result = h(json.loads(event_json), json.loads(context_json))
        if inspect.iscoroutine(result):
            # There is no event loop to drive it (no JSPI on Node 20): say so rather than
            # "succeed" with the coroutine's repr as output.
            result.close()
            raise TypeError('async def handler is not supported in the sandbox; define def handler(event, context)')
        return json.dumps({'ok': True, 'output': result}, default=str)
    except BaseException as e:
        tb = traceback.format_exception(type(e), e, e.__traceback__.tb_next if e.__traceback__ else None)
        # After a MemoryError the interpreter's heap is at its limit: start a fresh one.
        fatal = isinstance(e, MemoryError)
        return json.dumps({'ok': False, 'message': f'{type(e).__name__}: {e}', 'traceback': ''.join(tb), 'fatal': fatal})
    finally:
        os.environ.clear()
`;

interface PyApi {
  runPython(code: string): unknown;
  globals: { get(name: string): ((...a: unknown[]) => unknown) & { destroy(): void } };
  unregisterJsModule?(name: string): void;
}

export async function createPythonRunner(entryUrl: string, host: HostCall): Promise<Runner> {
  const { loadPyodide } = (await import(entryUrl)) as { loadPyodide: (o: object) => Promise<PyApi> };
  let sink: LogBuffer | undefined;
  // `import js` sees this object and nothing else: without it Python reads the process's
  // globals (js.process.env), tried in issue 13.
  const jsglobals = {
    labelcast_fetch: (req: string) => {
      let parsed: HostFetchRequest;
      try {
        parsed = JSON.parse(String(req)) as HostFetchRequest;
      } catch {
        return JSON.stringify({ error: 'fetch: the request is not JSON' });
      }
      return JSON.stringify(host(parsed));
    },
  };
  const py = await loadPyodide({
    jsglobals,
    env: { HOME: '/home/pyodide' },
    stdout: (s: string) => sink?.add(s),
    stderr: (s: string) => sink?.add(`[stderr] ${s}`),
  });
  try {
    py.unregisterJsModule?.('pyodide_js');
  } catch {
    // not registered under that name in this version: the sys.modules removal below still runs
  }
  py.runPython(PRELUDE);
  const run = py.globals.get('_lc_run');
  return {
    run(m: ToChild): ChildOutcome {
      const logs = new LogBuffer(m.limits.logBytes * 2 + 4096);
      sink = logs;
      try {
        const text = run(m.code, JSON.stringify(m.event ?? null), JSON.stringify(m.context ?? null), JSON.stringify(m.secrets)) as string;
        const r = JSON.parse(text) as { ok: boolean; output?: unknown; message?: string; traceback?: string; fatal?: boolean };
        return { ok: r.ok, output: r.output ?? null, message: r.message, traceback: r.traceback, logs: logs.text(), fatal: r.fatal === true };
      } catch (err) {
        // Raised past _lc_run (a wasm stack overflow, MemoryError while reporting): the
        // interpreter may be half-unwound, so the pool replaces it.
        const e = err as Error;
        return { ok: false, message: `${e.name}: ${String(e.message).split('\n').filter(Boolean).pop() ?? ''}`, traceback: String(e.message ?? ''), logs: logs.text(), fatal: true };
      } finally {
        sink = undefined;
      }
    },
  };
}
