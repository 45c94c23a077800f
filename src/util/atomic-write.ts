import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** One write call moves at most this many bytes (a single write of 2 GiB or more fails on some platforms). */
const WRITE_CAP = 1 << 30;

/**
 * Writes a file so that readers only ever see the old or the complete new content:
 * the bytes go to a hidden temporary name in the same directory (`.<name>.<pid>.tmp`, which
 * out-transaction.ts's LEGACY_TEMPORARY recognises), are fsynced, then a rename replaces the target.
 * A run killed mid-write therefore never leaves a half model in the out directory.
 * `data` may be given in parts (a header and a body), written one after the other.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string | readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const parts = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const fd = openSync(tmp, 'w');
  try {
    for (const bytes of parts) writeAll(fd, bytes);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, Math.min(bytes.length - off, WRITE_CAP));
}
