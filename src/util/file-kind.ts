/**
 * Refusing files by kind before they are opened: a named pipe blocks open() until a writer appears,
 * and files under /proc or /sys report size 0 (or never end), so reading or writing either hangs or
 * spins. Checks here run before any work and turn such paths into one clear UserError.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { userError } from '../errors.js';

/** statfs magic numbers of kernel pseudo filesystems that hold no user data. */
const PSEUDO_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x1cd1, 'devpts'],
  [0x73636673, 'securityfs'],
  [0xcafe4a11, 'bpf'],
]);

/** The pseudo filesystem `path` (or its nearest existing ancestor) lives on, or undefined for a real one. */
export function pseudoFilesystem(path: string): string | undefined {
  let p = resolve(path);
  for (;;) {
    try {
      return PSEUDO_FILESYSTEMS.get(Number(statfsSync(p).type));
    } catch {
      const up = dirname(p);
      if (up === p) return undefined;
      p = up;
    }
  }
}

export function describeKind(s: Stats): string {
  if (s.isFIFO()) return 'a named pipe';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device';
  if (s.isDirectory()) return 'a directory';
  if (s.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * Opens `path` for reading only if it is a regular file on a real filesystem. O_NONBLOCK keeps open()
 * from waiting on a pipe whose kind changed after the stat (the fstat check then refuses it).
 */
export function openRegularFile(path: string, field: string, expected: string): number {
  const fs = pseudoFilesystem(path);
  if (fs !== undefined) throw userError(path, field, `is on the kernel's ${fs} filesystem: expected ${expected}`);
  let s: Stats;
  try {
    s = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw userError(
      path,
      field,
      `${code === 'ENOENT' ? 'not found' : code === 'ELOOP' ? 'a symbolic link loop' : `cannot be read (${code ?? String(err)})`}: expected ${expected}`,
    );
  }
  if (!s.isFile()) throw userError(path, field, `is ${describeKind(s)}: expected ${expected}`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw userError(path, field, `cannot be opened (${(err as NodeJS.ErrnoException).code ?? String(err)}): expected ${expected}`);
  }
  const again = fstatSync(fd);
  if (!again.isFile()) {
    closeSync(fd);
    throw userError(path, field, `is ${describeKind(again)}: expected ${expected}`);
  }
  return fd;
}

/** Throws unless `path` is a regular file on a real filesystem (for readers that open it themselves). */
export function requireRegularFile(path: string, field: string, expected: string): void {
  closeSync(openRegularFile(path, field, expected));
}

/** Reads a whole regular file (refusing pipes, devices, directories and pseudo files first). */
export function readRegularFile(path: string, field: string, expected: string): Buffer {
  const fd = openRegularFile(path, field, expected);
  try {
    return readFileSync(fd);
  } catch (err) {
    throw userError(path, field, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}): expected ${expected}`);
  } finally {
    closeSync(fd);
  }
}
