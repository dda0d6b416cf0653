// Child side of the host-call pipe. A handler's fetch must look synchronous to Python
// (`requests.get(...)` returns a response, and Node 20 cannot suspend WebAssembly to await a
// promise), so the interpreter process writes one request line to an inherited socket and
// blocks reading the answer line; the pool performs the request and writes the answer. The
// process runs one handler at a time, so blocking it costs nothing, and the pool's wall clock
// still kills it if the answer never comes.
import fs from 'node:fs';
import type { HostFetchRequest, HostFetchResponse } from './types.js';

/** The fd the pool passes as the 5th stdio entry (after stdin, stdout, stderr, ipc). */
export const HOST_FD = 4;

export type HostCall = (req: HostFetchRequest) => HostFetchResponse;

export function createHostCall(fd: number = HOST_FD): HostCall {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const chunk = Buffer.alloc(64 * 1024);
  return (req) => {
    fs.writeSync(fd, JSON.stringify(req) + '\n');
    const parts: Buffer[] = [];
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          Atomics.wait(nap, 0, 0, 2);
          continue;
        }
        throw err;
      }
      if (n === 0) throw new Error('the host closed the fetch channel');
      const part = Buffer.from(chunk.subarray(0, n));
      parts.push(part);
      if (part.includes(10)) break;
    }
    const line = Buffer.concat(parts).toString('utf8');
    return JSON.parse(line.slice(0, line.indexOf('\n'))) as HostFetchResponse;
  };
}

/** Log lines of one run, kept up to a byte budget (the pool masks, then caps to the limit). */
export class LogBuffer {
  private parts: string[] = [];
  private size = 0;
  private dropped = 0;
  constructor(private readonly budget: number) {}
  add(line: string): void {
    const bytes = Buffer.byteLength(line) + 1;
    if (this.size + bytes > this.budget) {
      this.dropped += bytes;
      return;
    }
    this.parts.push(line);
    this.size += bytes;
  }
  text(): string {
    const body = this.parts.join('\n');
    return this.dropped ? `${body}\n[logs truncated: ${this.dropped} more bytes]` : body;
  }
}
