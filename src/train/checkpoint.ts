import { UserError } from '../errors.js';
import { readRegularFile } from '../util/file-kind.js';
import { writeFileAtomic } from '../util/atomic-write.js';

/**
 * Checkpoint file: one self-describing file so a kill between two writes can never pair old metadata
 * with new weights. Layout: "DNDCKPT1" | uint32 LE json length | JSON | float32 LE arrays, 4-byte aligned.
 * Any Float32Array inside the saved value is moved to the binary part and referenced as {"$f32": index}.
 */
const MAGIC = 'DNDCKPT1';
const TRUNCATED = 'expected a complete checkpoint (rerun without --resume to start over)';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function encodeCheckpoint(value: unknown): Uint8Array {
  const arrays: Float32Array[] = [];
  const json = JSON.stringify(toJson(value, arrays));
  const jsonBytes = Buffer.from(json, 'utf8');
  const headerLen = MAGIC.length + 4 + jsonBytes.length;
  const pad = (4 - (headerLen % 4)) % 4;
  let total = headerLen + pad;
  for (const a of arrays) total += 4 + a.byteLength;
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(jsonBytes.length + pad, MAGIC.length);
  jsonBytes.copy(out, MAGIC.length + 4);
  out.fill(0x20, headerLen, headerLen + pad); // spaces keep the JSON parseable after padding
  let off = headerLen + pad;
  for (const a of arrays) {
    out.writeUInt32LE(a.length, off);
    off += 4;
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(out, off);
    off += a.byteLength;
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, where = 'checkpoint'): unknown {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) {
    throw new UserError(`${where}: header: not a Dendritic checkpoint: expected the magic ${MAGIC} at the start`);
  }
  const jsonLen = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (start + jsonLen > buf.length) throw new UserError(`${where}: header: truncated checkpoint: ${TRUNCATED}`);
  let parsed: Json;
  try {
    parsed = JSON.parse(buf.toString('utf8', start, start + jsonLen)) as Json;
  } catch {
    throw new UserError(`${where}: metadata: corrupt JSON in checkpoint: ${TRUNCATED}`);
  }
  const arrays: Float32Array[] = [];
  let off = start + jsonLen;
  while (off < buf.length) {
    if (off + 4 > buf.length) throw new UserError(`${where}: arrays: truncated checkpoint: ${TRUNCATED}`);
    const n = buf.readUInt32LE(off);
    off += 4;
    if (off + 4 * n > buf.length) throw new UserError(`${where}: arrays: truncated checkpoint: ${TRUNCATED}`);
    const a = new Float32Array(n);
    Buffer.from(a.buffer).set(buf.subarray(off, off + 4 * n));
    arrays.push(a);
    off += 4 * n;
  }
  return fromJson(parsed, arrays, where);
}

export function saveCheckpoint(path: string, value: unknown): void {
  writeFileAtomic(path, encodeCheckpoint(value));
}

export function loadCheckpoint(path: string): unknown {
  const bytes = readRegularFile(path, 'file', 'the checkpoint an earlier run wrote (run without --resume first)');
  return decodeCheckpoint(bytes, path);
}

function toJson(v: unknown, arrays: Float32Array[]): Json {
  if (v instanceof Float32Array) {
    arrays.push(v);
    return { $f32: arrays.length - 1 };
  }
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') {
    // JSON has no NaN/Infinity; keep them exact so a resumed run compares scores identically
    return Number.isFinite(v) ? v : { $num: String(v) };
  }
  if (v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => toJson(x, arrays));
  if (ArrayBuffer.isView(v)) return { $arr: Array.from(v as unknown as ArrayLike<number>) };
  if (typeof v === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) out[k] = toJson(x, arrays);
    return out;
  }
  throw new Error(`checkpoint: cannot encode a value of type ${typeof v}`);
}

function fromJson(v: Json, arrays: Float32Array[], where: string): unknown {
  if (Array.isArray(v)) return v.map((x) => fromJson(x, arrays, where));
  if (v !== null && typeof v === 'object') {
    if ('$f32' in v && typeof v.$f32 === 'number') {
      const a = arrays[v.$f32];
      if (!a) throw new UserError(`${where}: arrays: checkpoint references missing array ${v.$f32}: ${TRUNCATED}`);
      return a;
    }
    if ('$num' in v && typeof v.$num === 'string') return Number(v.$num);
    if ('$arr' in v && Array.isArray(v.$arr)) return v.$arr;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromJson(x, arrays, where);
    return out;
  }
  return v;
}
