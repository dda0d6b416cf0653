// Identifiers. Events get UUIDv7 (RFC 9562): time-ordered, so ids sort roughly by creation
// and index inserts stay append-mostly. Entity hashes (project_hash, data_hash, label_hash)
// are random UUIDv4, the shape Encord receivers expect.
import crypto from 'node:crypto';

let lastMs = 0;
let seq = 0;
// Random bytes drawn 4 KiB at a time: a randomBytes call per id was 4.7% of the produce-only
// CPU profile (docs/performance.md). Each id still gets 16 bytes no other id has used.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function random16(): Buffer {
  if (poolAt + 16 > pool.length) {
    crypto.randomFillSync(pool);
    poolAt = 0;
  }
  const b = Buffer.allocUnsafe(16);
  pool.copy(b, 0, poolAt, poolAt + 16);
  poolAt += 16;
  return b;
}

/**
 * A UUIDv7 whose 12-bit rand_a field is a counter within the millisecond (RFC 9562 §6.2,
 * method 1), so ids minted by one process are strictly increasing even inside one ms.
 */
export function uuidv7(now: number = Date.now()): string {
  let ms = now;
  if (ms <= lastMs) {
    ms = lastMs;
    seq++;
    if (seq > 0xfff) {
      // Counter exhausted: borrow the next millisecond rather than repeat or go backwards.
      ms = ++lastMs;
      seq = 0;
    }
  } else {
    lastMs = ms;
    seq = 0;
  }
  const b = random16();
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | ((seq >> 8) & 0x0f);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function newHash(): string {
  return crypto.randomUUID();
}
