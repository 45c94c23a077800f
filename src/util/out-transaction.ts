/**
 * A run is a transaction on its out directory. Everything is written into a private staging directory
 * beside the out directory (inside it only when its parent cannot be written, e.g. a mounted volume);
 * `publish()` checks every staged file against what was written, then moves it in with renames and
 * removes the files a previous run of the same command wrote that this run did not, so the out
 * directory only ever holds one run's files. A run that fails, is refused or is killed before
 * `publish()` leaves the out directory byte-identical.
 *
 * publish() itself is journalled: the files it replaces go to a backup directory first, with a list of
 * the files it adds; the journal's removal is the commit. A run killed in between is rolled back by the
 * next run on the same out directory (under its lock), which also removes stale staging directories.
 *
 * A long run may publish its results as they happen (publishProgress): each such publish is the same
 * journalled move of whole files, and the transaction stays open (lock held, a fresh staging directory)
 * for the next one. A run that fails or is killed later leaves the last progress it published.
 */
import { createHash } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  cpSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';
import { pseudoFilesystem } from './file-kind.js';
import { acquireOutLock, type OutLock } from './out-lock.js';

export interface OutTransactionOptions {
  /** The command (named in the lock and in messages). */
  command: string;
  /** Every file this command writes into an out directory: one a previous run left and this run did not write is removed at publish. */
  manages: readonly string[];
  /** Files a killed run's staging directory hands on to this run (a checkpoint for --resume). */
  adopt?: readonly string[];
  /**
   * The names in `manages` that this command writes as folders (a TensorBoard folder); every other one
   * is a file. An entry of the other kind under a managed name is not this command's: it is never
   * removed, and publishing over it is refused.
   */
  directories?: readonly string[];
}

const JOURNAL = 'JOURNAL.json';
/** Temporaries the atomic writers of earlier versions left in the out directory itself. */
const LEGACY_TEMPORARY = /^(\..+\.\d+\.tmp|report\.(json|html)\.tmp-.+)$/;

/** errno codes that are the machine's state, not a bug: each becomes one clear line. */
const FS_PROBLEMS: Record<string, string> = {
  ENOSPC: 'no space left on the device (ENOSPC)',
  EDQUOT: 'disk quota exceeded (EDQUOT)',
  EROFS: 'read-only filesystem (EROFS)',
  EACCES: 'permission denied (EACCES)',
  EPERM: 'operation not permitted (EPERM)',
  ENOTDIR: 'a path component is not a directory (ENOTDIR)',
  ENAMETOOLONG: 'path too long (ENAMETOOLONG)',
  ELOOP: 'symbolic link loop (ELOOP)',
  EIO: 'input/output error (EIO)',
  EMFILE: 'too many open files (EMFILE)',
  EXDEV: 'a rename across mounts failed (EXDEV)',
};

/**
 * Test hook, read only here: DENDRITIC_FAULT=<errno code>:<step> makes that step fail as the disk
 * would (steps: open, publish, write:<file name>), so the suite can check disk-full and read-only
 * handling without a full or read-only filesystem. SLOW:<step> pauses there instead (steps replace and
 * finish: between the moves, and between the moves and releasing the staging directory and the lock).
 */
function injectFault(step: string): void {
  const spec = process.env.DENDRITIC_FAULT;
  if (!spec) return;
  const cut = spec.indexOf(':');
  if (cut < 0 || spec.slice(cut + 1) !== step) return;
  const code = spec.slice(0, cut);
  if (code === 'SLOW') {
    // Not a failure: the step pauses 2 s (a test signals the process while it is in the middle of it).
    process.stderr.write(`fault: ${step} paused\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2000);
    return;
  }
  throw Object.assign(new Error(`${code}: injected fault at ${step}`), { code });
}

/**
 * 1 while a publish moves files and ends its transaction (staging removed, lock released), else 0:
 * shared with the thread that handles signals, which holds an exit a second SIGINT/SIGTERM asks for
 * until the publish is done, so a run is published whole or not at all and leaves nothing behind
 * (train runs in a worker thread; the signals reach the main one).
 */
let publishing: Int32Array | undefined;

/** Makes this thread's publishes set `flag` while they move files (see holdExitWhilePublishing). */
export function guardPublishes(flag: Int32Array): void {
  publishing = flag;
}

/** A flag for guardPublishes, created where the signals are handled. */
export function createPublishFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Runs `work` with the publish flag set, so a second signal's exit waits for it (see exitAfterPublish). */
function whilePublishing<T>(work: () => T): T {
  if (publishing) Atomics.store(publishing, 0, 1);
  try {
    return work();
  } finally {
    if (publishing) Atomics.store(publishing, 0, 0);
  }
}

/** Exits with `code` once no publish is under way (at once when none is). */
export function exitAfterPublish(flag: Int32Array | undefined, code: number): void {
  if (!flag || Atomics.load(flag, 0) === 0) process.exit(code);
  const timer = setInterval(() => {
    if (Atomics.load(flag, 0) === 0) {
      clearInterval(timer);
      process.exit(code);
    }
  }, 5);
}

/** A file's hash, or a folder's (every entry's name and content, sorted: a TensorBoard folder). */
function sha256(path: string): string {
  const h = createHash('sha256');
  const add = (p: string, name: string): void => {
    if (lstatSync(p).isDirectory()) {
      h.update(`dir ${name}\0`);
      for (const n of readdirSync(p).sort()) add(join(p, n), `${name}/${n}`);
    } else {
      h.update(`file ${name}\0`).update(readFileSync(p));
    }
  };
  add(path, '.');
  return h.digest('hex');
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every filesystem lets a directory be fsynced; the renames are still ordered
  }
}

/**
 * Whether a file renames from `parent` into `out` (false: EXDEV, another mount). Any other failure is
 * the disk's state and is thrown (open() turns it into one line).
 */
function renameCrosses(parent: string, out: string): boolean {
  const probe = join(parent, `.${basename(out)}.dendritic-probe-${process.pid}`);
  const inside = join(out, `.dendritic-probe-${process.pid}`);
  writeFileAtomic(probe, '');
  try {
    injectFault('probe');
    renameSync(probe, inside);
  } catch (err) {
    rmSync(probe, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'EXDEV') return false;
    throw err;
  }
  rmSync(inside, { force: true });
  return true;
}

/**
 * rename(), or where the two paths turn out to be on different mounts after all (EXDEV), a copy that is
 * fsynced and checked against the source before the source is removed.
 */
export function moveOrCopy(from: string, to: string): void {
  try {
    injectFault(`move:${basename(from)}`);
    renameSync(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  const want = sha256(from);
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, preserveTimestamps: true });
  const syncAll = (p: string): void => {
    if (lstatSync(p).isDirectory()) for (const n of readdirSync(p)) syncAll(join(p, n));
    const fd = openSync(p, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  };
  syncAll(to);
  if (sha256(to) !== want) {
    rmSync(to, { recursive: true, force: true });
    throw Object.assign(new Error(`copying ${from} to ${to}: the copy differs from what was written`), { code: 'EIO' });
  }
  rmSync(from, { recursive: true, force: true });
}

export class OutTransaction {
  /** name -> sha256 of what this run wrote into staging. */
  private readonly staged = new Map<string, string>();
  private finished = false;
  /** What this run took over from a killed run's staging (a checkpoint for --resume, its metrics). */
  private readonly adopted = new Set<string>();

  private constructor(
    readonly outDir: string,
    /** Where files are staged; a new directory after each publishProgress(). */
    private staging: string,
    /** Path prefix of this out directory's lock, staging and backup entries. */
    private readonly prefix: string,
    private readonly lock: OutLock,
    private readonly opts: OutTransactionOptions,
  ) {}

  /**
   * Checks the out directory, takes its lock, repairs what a killed run left, and creates the staging
   * directory. Everything that makes a run unable to publish (a pseudo filesystem, a file in the way, no
   * permission, a read-only disk, another run) is refused here, before any work.
   */
  static open(outDir: string, opts: OutTransactionOptions): OutTransaction {
    const out = resolve(outDir);
    const explain = (err: unknown, doing: string): unknown => fsError(err, out, doing);
    const pseudo = pseudoFilesystem(out);
    if (pseudo !== undefined) {
      throw new UserError(`${out}: out-directory: is on the kernel's ${pseudo} filesystem: expected a directory on a disk`);
    }
    let exists = false;
    try {
      const s = lstatSync(out);
      const target = s.isSymbolicLink() ? statSync(out) : s;
      if (!target.isDirectory())
        throw new UserError(`${out}: out-directory: exists and is not a directory: expected a directory or a path where one can be created`);
      exists = true;
    } catch (err) {
      if (err instanceof UserError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw explain(err, 'checking it');
    }
    const parent = dirname(out);
    try {
      injectFault('open');
      mkdirSync(parent, { recursive: true });
    } catch (err) {
      throw explain(err, 'creating its parent directory');
    }
    // Beside the out directory, so a killed run leaves the out directory itself untouched; inside it
    // where only the out directory may be written (a volume mounted into a read-only parent) or where
    // it is another filesystem than its parent (a mounted volume, a link elsewhere): rename() cannot
    // move files between filesystems.
    // A read-only out directory (a read-only bind mount, a read-only volume) is refused before any work.
    if (exists && !writable(out)) {
      throw new UserError(`${out}: out-directory: is read-only (a read-only mount, or not ours): expected a writable directory; nothing was written`);
    }
    let beside = writable(parent) && !(exists && statSync(out).dev !== statSync(parent).dev);
    // A bind mount (a Docker volume) has its parent's device number, but rename() still cannot cross
    // it (EXDEV): a probe file renamed from the parent into the out directory tells, before any work.
    if (beside && exists && !renameCrosses(parent, out)) beside = false;
    if (!beside && !(exists && writable(out))) {
      throw new UserError(
        `${out}: out-directory: cannot be written (${exists ? 'the directory and its parent are' : 'its parent directory is'} read-only or not ours): expected a writable directory`,
      );
    }
    const prefix = beside ? join(parent, `.${basename(out)}.dendritic`) : join(out, '.dendritic');
    let lock: OutLock;
    try {
      lock = acquireOutLock(`${prefix}-lock`, out, opts.command);
    } catch (err) {
      throw explain(err, 'taking its lock');
    }
    try {
      recoverInterrupted(out, prefix);
      const tx = new OutTransaction(out, makeStaging(prefix), prefix, lock, opts);
      tx.adoptFromKilledRuns();
      return tx;
    } catch (err) {
      lock.release();
      throw explain(err, 'preparing the staging directory');
    }
  }

  get stagingDir(): string {
    return this.staging;
  }

  /** Where `name` is staged (for writers that stream; call `recordStaged(name)` after). */
  path(name: string): string {
    return join(this.staging, name);
  }

  /** Whether `name` is staged (written, or adopted from a killed run). */
  has(name: string): boolean {
    return this.staged.has(name);
  }

  writeFile(name: string, data: Uint8Array | string): void {
    try {
      injectFault(`write:${name}`);
      writeFileAtomic(this.path(name), data);
    } catch (err) {
      throw fsError(err, this.outDir, `writing ${name}`);
    }
    this.recordStaged(name);
  }

  /** Notes a file (or folder) a streaming writer put at `path(name)`, so publish can check it is still what was written. */
  recordStaged(name: string): void {
    this.staged.set(name, sha256(this.path(name)));
  }

  /** Takes a staged file back: publish then removes a previous run's copy (e.g. a finished run's checkpoint). */
  discard(name: string): void {
    this.staged.delete(name);
    rmSync(this.path(name), { force: true, recursive: true });
  }

  /**
   * Checks every staged file, then moves them into the out directory, removes managed files this run
   * did not write, and releases the lock. Returns the out directory's paths of the published files.
   */
  publish(): string[] {
    // The staging directory and the lock go in the same held stretch as the files: a second signal that
    // exited between the move and finish() would leave them behind beside the out directory.
    return whilePublishing(() => {
      const published = this.moveStagedIn();
      this.finish();
      return published;
    });
  }

  /**
   * publish() without ending the run: what is staged now is published (atomically, as publish does),
   * the lock stays held and staging starts empty again, so the run can publish again later (partial
   * results as they happen). Managed files not staged this time are removed, as at publish().
   */
  publishProgress(): string[] {
    const published = whilePublishing(() => this.moveStagedIn());
    this.staged.clear();
    this.adopted.clear();
    try {
      // A new out directory was published by renaming the staging directory itself.
      rmSync(this.staging, { recursive: true, force: true });
      this.staging = makeStaging(this.prefix);
    } catch (err) {
      this.abort();
      throw fsError(err, this.outDir, 'preparing the staging directory');
    }
    return published;
  }

  private moveStagedIn(): string[] {
    if (this.finished) throw new Error('publish: the transaction already ended');
    for (const [name, hash] of this.staged) {
      if (sha256(this.path(name)) !== hash) throw new Error(`publish: staged ${name} changed after it was written`);
    }
    fsyncDir(this.staging);
    const incoming = [...this.staged.keys()];
    try {
      injectFault('publish');
      if (!existsSync(this.outDir)) {
        // A new out directory: one rename publishes it whole.
        renameSync(this.staging, this.outDir);
      } else {
        this.replaceFiles(incoming);
      }
      fsyncDir(dirname(this.outDir));
    } catch (err) {
      this.abort();
      throw fsError(err, this.outDir, 'publishing');
    }
    return incoming.map((n) => join(this.outDir, n));
  }

  /**
   * Ends the run without publishing: the out directory stays as it was. What was adopted from a killed
   * run (and is still staged) stays in this staging directory for the next run to adopt, so a refused
   * or failed run (say, `--resume` with a mistyped parameter) does not cost the killed run's checkpoint.
   * Safe to call more than once.
   */
  abort(): void {
    if (this.finished) return;
    const keep = [...this.adopted].filter((n) => this.staged.has(n) && existsSync(this.path(n)));
    if (keep.length === 0) {
      this.finish();
      return;
    }
    this.finished = true;
    for (const n of readdirSync(this.staging)) if (!keep.includes(n)) rmSync(join(this.staging, n), { recursive: true, force: true });
    this.lock.release();
  }

  private finish(): void {
    injectFault('finish');
    this.finished = true;
    rmSync(this.staging, { recursive: true, force: true });
    this.lock.release();
  }

  private replaceFiles(incoming: string[]): void {
    const present = new Set(readdirSync(this.outDir));
    const isDir = (p: string) => lstatSync(p).isDirectory();
    // Never delete what this command did not write: a folder where it writes a file (or the reverse).
    for (const n of incoming) {
      if (present.has(n) && isDir(join(this.outDir, n)) !== isDir(this.path(n))) {
        const kind = isDir(join(this.outDir, n)) ? 'a folder' : 'a file';
        throw new UserError(
          `${join(this.outDir, n)}: out-directory: ${n} is ${kind}, not what ${this.opts.command} writes there: expected it moved away (it is not removed; nothing was published)`,
        );
      }
    }
    const ours = (n: string) => isDir(join(this.outDir, n)) === (this.opts.directories ?? []).includes(n);
    const stale = this.opts.manages.filter((n) => present.has(n) && !incoming.includes(n) && ours(n));
    const replaced = incoming.filter((n) => present.has(n));
    const backup = `${this.prefix}-backup`;
    mkdirSync(backup);
    writeFileAtomic(join(backup, JOURNAL), JSON.stringify({ added: incoming.filter((n) => !present.has(n)) }));
    fsyncDir(backup);
    try {
      for (const n of [...replaced, ...stale]) moveOrCopy(join(this.outDir, n), join(backup, n));
      injectFault('replace');
      for (const n of incoming) moveOrCopy(this.path(n), join(this.outDir, n));
    } catch (err) {
      rollBack(this.outDir, backup);
      throw err;
    }
    fsyncDir(this.outDir);
    rmSync(join(backup, JOURNAL)); // the commit
    rmSync(backup, { recursive: true, force: true });
    for (const n of present) if (LEGACY_TEMPORARY.test(n)) rmSync(join(this.outDir, n), { force: true });
  }

  /** A killed run's checkpoint moves into this run's staging (the newest one, when several were left). */
  private adoptFromKilledRuns(): void {
    const dir = dirname(this.prefix);
    const stagingPrefix = `${basename(this.prefix)}-staging-`;
    const stale = readdirSync(dir)
      .filter((n) => n.startsWith(stagingPrefix) && join(dir, n) !== this.stagingDir)
      .map((n) => join(dir, n));
    for (const name of this.opts.adopt ?? []) {
      const candidates = stale
        .map((d) => join(d, name))
        .filter((p) => existsSync(p))
        .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
      if (candidates[0] !== undefined) {
        renameSync(candidates[0], this.path(name));
        this.recordStaged(name);
        this.adopted.add(name);
      }
    }
    for (const d of stale) rmSync(d, { recursive: true, force: true });
  }
}

function makeStaging(prefix: string): string {
  const staging = mkdtempSync(`${prefix}-staging-${process.pid}-`);
  // mkdtemp makes it private; published whole, it becomes an ordinary folder
  chmodSync(staging, 0o777 & ~process.umask());
  return staging;
}

/** Undoes an interrupted publish (journal present) or finishes removing a committed one's backup. */
function recoverInterrupted(out: string, prefix: string): void {
  const backup = `${prefix}-backup`;
  if (!existsSync(backup)) return;
  if (existsSync(join(backup, JOURNAL))) rollBack(out, backup);
  else rmSync(backup, { recursive: true, force: true });
}

function rollBack(out: string, backup: string): void {
  let added: string[] = [];
  try {
    added = (JSON.parse(readFileSync(join(backup, JOURNAL), 'utf8')) as { added?: string[] }).added ?? [];
  } catch {
    // a journal cut short was written before any file moved: nothing was added
  }
  for (const n of added) rmSync(join(out, n), { force: true, recursive: true });
  for (const n of readdirSync(backup)) if (n !== JOURNAL) moveOrCopy(join(backup, n), join(out, n));
  rmSync(backup, { recursive: true, force: true });
}

/**
 * A filesystem error as the user's problem: one line naming the out directory, what failed and what
 * was expected. Errors that are not the machine's state (bugs) pass through unchanged.
 */
export function fsError(err: unknown, outDir: string, doing: string): unknown {
  if (err instanceof UserError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = code !== undefined ? FS_PROBLEMS[code] : undefined;
  if (reason === undefined) return err;
  return new UserError(
    `${outDir}: out-directory: ${doing}: ${reason}: expected a writable directory with free space; nothing was published, the out directory is as it was`,
  );
}
