/**
 * NumPy .npy reader and writer.
 * Reads format versions 1, 2 and 3, either byte order, C order only, and the numeric dtypes below.
 * Large arrays are read through a fixed-size buffer straight into the one output array, so a
 * multi-gigabyte float64 X never needs two full copies in memory.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { userError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { openRegularFile } from '../util/file-kind.js';

export type NpyDtype =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

export interface NpyHeader {
  version: number;
  dtype: NpyDtype;
  littleEndian: boolean;
  itemSize: number;
  shape: number[];
  /** Byte offset of the first element. */
  dataOffset: number;
}

export interface NpyArray<T> {
  shape: number[];
  dtype: NpyDtype;
  data: T;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const CHUNK_BYTES = 1 << 20; // a multiple of every item size

/** descr type code (kind + size) -> dtype */
const DTYPES: Record<string, { dtype: NpyDtype; size: number }> = {
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i1: { dtype: 'int8', size: 1 },
  i2: { dtype: 'int16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u1: { dtype: 'uint8', size: 1 },
  u2: { dtype: 'uint16', size: 2 },
  u4: { dtype: 'uint32', size: 4 },
  u8: { dtype: 'uint64', size: 8 },
  b1: { dtype: 'bool', size: 1 },
};

export function isIntegerDtype(dtype: NpyDtype): boolean {
  return dtype !== 'float32' && dtype !== 'float64';
}

/** Reads and validates only the header. */
export function readNpyHeader(path: string): NpyHeader {
  const fd = openForReading(path);
  try {
    return readHeaderFromFd(fd, path);
  } finally {
    closeSync(fd);
  }
}

/** Reads any supported dtype as float32 (the form X is trained from). */
export function readNpyFloat32(path: string): NpyArray<Float32Array> {
  return readNpyInto(path, (n) => new Float32Array(n));
}

/**
 * Reads any supported dtype as float64 numbers (the form labels are inspected in).
 * 64-bit integers outside +-2^53 cannot be represented exactly and are rejected.
 */
export function readNpyNumbers(path: string): NpyArray<Float64Array> {
  return readNpyInto(path, (n) => new Float64Array(n));
}

function readNpyInto<T extends Float32Array | Float64Array>(path: string, alloc: (n: number) => T): NpyArray<T> {
  const fd = openForReading(path);
  try {
    const header = readHeaderFromFd(fd, path);
    const count = header.shape.reduce((a, b) => a * b, 1);
    const expectedBytes = count * header.itemSize;
    const available = fstatSync(fd).size - header.dataOffset;
    if (available < expectedBytes) {
      throw userError(
        path,
        'data',
        `file holds ${available} bytes of data but the header's shape (${header.shape.join(', ')}) ` +
          `and dtype ${header.dtype} need ${expectedBytes} bytes: expected the complete array (truncated file?)`,
      );
    }
    const out = alloc(count);
    const buf = Buffer.allocUnsafeSlow(Math.min(CHUNK_BYTES, Math.max(expectedBytes, 1)));
    let done = 0; // elements converted so far
    let position = header.dataOffset;
    while (done < count) {
      const items = Math.min(count - done, Math.floor(buf.length / header.itemSize));
      const bytes = items * header.itemSize;
      readFully(fd, buf, bytes, position, path);
      convertChunk(buf, items, header, out, done, path);
      done += items;
      position += bytes;
    }
    return { shape: header.shape, dtype: header.dtype, data: out };
  } finally {
    closeSync(fd);
  }
}

function openForReading(path: string): number {
  return openRegularFile(path, 'file', 'a readable .npy file');
}

function readFully(fd: number, buf: Buffer, length: number, position: number, path: string): void {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) throw userError(path, 'data', `file ends after ${position + got} bytes, in the middle of the data: expected the complete array`);
    got += n;
  }
}

function readHeaderFromFd(fd: number, path: string): NpyHeader {
  const pre = Buffer.alloc(12);
  const got = readSync(fd, pre, 0, 12, 0);
  if (got < 10 || !MAGIC.every((b, i) => pre[i] === b)) {
    throw userError(path, 'magic', 'not a .npy file: expected the bytes "\\x93NUMPY" at the start');
  }
  const major = pre[6]!;
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = pre.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (got < 12) throw userError(path, 'header', 'file ends inside the header length field: expected a complete .npy header');
    headerLen = pre.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw userError(path, 'version', `format version ${major}.${pre[7]} is not supported: expected 1.x, 2.x or 3.x`);
  }
  // Never allocate what a corrupt length field claims (up to 4 GB in v2/v3): only what the file holds.
  const inFile = Math.max(0, fstatSync(fd).size - headerStart);
  if (headerLen > inFile) {
    throw userError(path, 'header', `header says ${headerLen} bytes but the file ends after ${inFile} of them: expected a complete .npy header (truncated file?)`);
  }
  const headerBuf = Buffer.alloc(headerLen);
  const hgot = readSync(fd, headerBuf, 0, headerLen, headerStart);
  if (hgot < headerLen) {
    throw userError(path, 'header', `header says ${headerLen} bytes but the file ends after ${hgot} of them: expected a complete .npy header (truncated file?)`);
  }
  const text = headerBuf.toString(major === 3 ? 'utf8' : 'latin1');
  const fields = parseHeaderDict(text, path);
  return { version: major, ...fields, dataOffset: headerStart + headerLen };
}

/** Parses the Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }. */
function parseHeaderDict(text: string, path: string): Omit<NpyHeader, 'version' | 'dataOffset'> {
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) {
    throw userError(path, 'header', `expected a Python dict literal, found ${JSON.stringify(body.slice(0, 60))}`);
  }
  const descrMatch = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(body);
  if (descrMatch === null) {
    const structured = /['"]descr['"]\s*:\s*\[/.test(body);
    throw userError(
      path,
      'descr',
      structured ? 'structured (record) dtypes are not supported: expected a plain numeric dtype' : 'missing from header: expected a numeric dtype such as \'<f4\'',
    );
  }
  const descr = descrMatch[1]!;
  const order = descr[0]!;
  const code = '<>|='.includes(order) ? descr.slice(1) : descr;
  const known = DTYPES[code];
  if (known === undefined) {
    throw userError(
      path,
      'descr',
      `dtype '${descr}' is not supported: expected float32/float64, int8/16/32/64, uint8/16/32/64 or bool`,
    );
  }
  const littleEndian = order !== '>';
  const fortranMatch = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(body);
  if (fortranMatch === null) throw userError(path, 'fortran_order', 'missing from header (expected True or False)');
  if (fortranMatch[1] === 'True') {
    throw userError(
      path,
      'fortran_order',
      'Fortran (column-major) order is not supported: expected C order (save numpy.ascontiguousarray(x))',
    );
  }
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(body);
  if (shapeMatch === null) throw userError(path, 'shape', 'missing from header (expected a tuple of integers)');
  const parts = shapeMatch[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const shape = parts.map((p) => {
    if (!/^\d+L?$/.test(p)) throw userError(path, 'shape', `expected non-negative integers, found '${p}'`);
    return Number.parseInt(p, 10);
  });
  return { dtype: known.dtype, littleEndian, itemSize: known.size, shape };
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type NativeView = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayLike<number>;

/** Typed-array views over native-order bytes, copied with one `set`; 64-bit integers are not here (they need a range check). */
const NATIVE_VIEWS: Partial<Record<NpyDtype, NativeView>> = {
  float32: Float32Array,
  float64: Float64Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  uint8: Uint8Array,
  bool: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
};

type Out = Float32Array | Float64Array;
/** Converts `items` elements of `dv` into out[at...]; le: the file's byte order. */
type ChunkConverter = (dv: DataView, le: boolean, out: Out, at: number, items: number, path: string) => void;

/**
 * Element by element through a DataView: multi-byte dtypes in the other byte order, and 64-bit integers.
 * One loop per dtype on purpose: each stays monomorphic (this is the hot path of a big-endian file).
 * Single-byte dtypes are always native.
 */
const DATAVIEW_CONVERTERS: Record<Exclude<NpyDtype, 'int8' | 'uint8' | 'bool'>, ChunkConverter> = {
  float32: (dv, le, out, at, items) => {
    for (let i = 0; i < items; i++) out[at + i] = dv.getFloat32(i * 4, le);
  },
  float64: (dv, le, out, at, items) => {
    for (let i = 0; i < items; i++) out[at + i] = dv.getFloat64(i * 8, le);
  },
  int16: (dv, le, out, at, items) => {
    for (let i = 0; i < items; i++) out[at + i] = dv.getInt16(i * 2, le);
  },
  int32: (dv, le, out, at, items) => {
    for (let i = 0; i < items; i++) out[at + i] = dv.getInt32(i * 4, le);
  },
  uint16: (dv, le, out, at, items) => {
    for (let i = 0; i < items; i++) out[at + i] = dv.getUint16(i * 2, le);
  },
  uint32: (dv, le, out, at, items) => {
    for (let i = 0; i < items; i++) out[at + i] = dv.getUint32(i * 4, le);
  },
  int64: (dv, le, out, at, items, path) => {
    for (let i = 0; i < items; i++) out[at + i] = safeInteger(dv.getBigInt64(i * 8, le), 'int64', at + i, path);
  },
  uint64: (dv, le, out, at, items, path) => {
    for (let i = 0; i < items; i++) out[at + i] = safeInteger(dv.getBigUint64(i * 8, le), 'uint64', at + i, path);
  },
};

function safeInteger(big: bigint, dtype: NpyDtype, element: number, path: string): number {
  if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw userError(path, 'data', `element ${element} = ${big} is outside the exactly representable range +-2^53 of ${dtype}: expected values within +-2^53`);
  }
  return Number(big);
}

function convertChunk(buf: Buffer, items: number, h: NpyHeader, out: Out, at: number, path: string): void {
  // buf comes from allocUnsafeSlow, so its byteOffset is 0 and typed views are aligned.
  const native = h.littleEndian === HOST_LITTLE_ENDIAN || h.itemSize === 1;
  const View = native ? NATIVE_VIEWS[h.dtype] : undefined;
  if (View !== undefined) {
    out.set(new View(buf.buffer, buf.byteOffset, items), at);
    return;
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, items * h.itemSize);
  DATAVIEW_CONVERTERS[h.dtype as keyof typeof DATAVIEW_CONVERTERS](dv, h.littleEndian, out, at, items, path);
}

/**
 * Writes a C-order, little-endian .npy file (format 1.0) through a temporary name in the same
 * directory and a rename, so readers never see a half-written array.
 */
export function writeNpy(
  path: string,
  array: Float32Array | Int32Array | ArrayLike<number>,
  shape: readonly number[],
  dtype: 'float32' | 'int32',
): void {
  const count = shape.reduce((a, b) => a * b, 1);
  if (array.length !== count) {
    throw new Error(`writeNpy(${path}): ${array.length} values do not fill shape (${shape.join(', ')})`);
  }
  const typed =
    dtype === 'float32'
      ? array instanceof Float32Array
        ? array
        : Float32Array.from(array)
      : array instanceof Int32Array
        ? array
        : Int32Array.from(array);
  if (!HOST_LITTLE_ENDIAN) throw new Error('writeNpy: big-endian hosts are not supported');
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${dtype === 'float32' ? '<f4' : '<i4'}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1; // magic+version+len, dict, newline
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  if (dict.length > 0xffff) throw new Error(`writeNpy(${path}): header too long for format 1.0`);
  const header = Buffer.alloc(10 + dict.length);
  Buffer.from(MAGIC).copy(header, 0);
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(dict.length, 8);
  header.write(dict, 10, 'latin1');
  const body = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength);

  writeFileAtomic(path, [header, body]);
}
