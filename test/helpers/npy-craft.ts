/**
 * Hand-built .npy files for the bad-input tests: any header text and any payload, so a test can
 * produce exactly the defect it names (Fortran order, an exotic dtype, a short payload, ...).
 */
import { writeFileSync } from 'node:fs';

/** Writes "\x93NUMPY" v1.0 + the given header dict (padded to 64 bytes) + payload. */
export function writeRawNpy(path: string, headerDict: string, payload: Uint8Array): void {
  let dict = headerDict;
  const unpadded = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const header = Buffer.alloc(10 + dict.length);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(header, 0);
  header.writeUInt16LE(dict.length, 8);
  header.write(dict, 10, 'latin1');
  writeFileSync(path, Buffer.concat([header, payload]));
}

export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const a = Float32Array.from(values);
  return new Uint8Array(a.buffer);
}
