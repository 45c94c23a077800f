/**
 * One run per out directory: an exclusive lock file created with O_EXCL. It records the owner's pid and
 * the kernel's start time of that pid, so a lock left by a run killed with SIGKILL is recognised as
 * stale (the pid is gone, or was reused by a process that started later) and taken over, while a live
 * owner makes the second run fail with a clear error instead of the two overwriting each other.
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { UserError } from '../errors.js';

interface LockOwner {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks after boot); null where /proc is not available. */
  start: string | null;
  host: string;
  command: string;
  since: string;
}

export interface OutLock {
  readonly path: string;
  release(): void;
}

/** The start time the kernel records for `pid`, or null (no /proc, or no such process). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock whose owner can no longer be running: its pid is gone, or now belongs to a later process. */
function isStale(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false; // another machine's pid says nothing here
  if (!alive(owner.pid)) return true;
  if (owner.start === null) return false;
  const now = processStartTime(owner.pid);
  return now !== null && now !== owner.start;
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number') return undefined;
    return { pid: parsed.pid, start: parsed.start ?? null, host: parsed.host ?? '', command: parsed.command ?? '?', since: parsed.since ?? '?' };
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock at `path` for `outDir`, or throws a UserError naming the run that holds it.
 * Filesystem errors other than "exists" propagate for the caller to explain.
 */
export function acquireOutLock(path: string, outDir: string, command: string): OutLock {
  const me: LockOwner = { pid: process.pid, start: processStartTime(process.pid), host: hostname(), command, since: new Date().toISOString() };
  const body = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, body);
      } finally {
        closeSync(fd);
      }
      return { path, release: () => releaseIfMine(path, me) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    // A lock that cannot be read is one whose writer died between create and write: stale.
    if (owner !== undefined && !isStale(owner)) {
      throw new UserError(
        `${outDir}: out-directory: in use by another run (${owner.command}, pid ${owner.pid}${owner.host !== me.host ? ` on ${owner.host}` : ''}, since ${owner.since}): expected one run per out directory; wait for it to end or choose another --out-directory`,
      );
    }
    takeOverStale(path, owner);
  }
  throw new UserError(`${outDir}: out-directory: could not take its lock ${path} after several tries: expected one run per out directory`);
}

/**
 * Moves a stale lock aside and removes it. Two runs may find the same stale lock; the one whose rename
 * grabbed a fresh lock instead (the other run's) puts it back with link(), which never overwrites.
 */
function takeOverStale(path: string, seen: LockOwner | undefined): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first: try again from the top
  }
  const moved = readOwner(aside);
  const same =
    moved === undefined ? seen === undefined : seen !== undefined && moved.pid === seen.pid && moved.start === seen.start && moved.since === seen.since;
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // a third run took the path meanwhile; the fresh lock we moved is lost to its owner, who keeps running
    }
  }
  rmSync(aside, { force: true });
}

function releaseIfMine(path: string, me: LockOwner): void {
  const owner = readOwner(path);
  if (owner && owner.pid === me.pid && owner.since === me.since) rmSync(path, { force: true });
}
