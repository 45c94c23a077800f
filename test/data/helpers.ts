/** Shared test helpers for the data tests: the Debian Python with NumPy/SciPy as an oracle, temp dirs. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSharedDir } from '../../src/util/shared-dir.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = findSharedDir(REPO_ROOT);
export const FSDD = join(REPO_ROOT, 'data/fsdd/recordings');
export const PYTHON = '/usr/bin/python3';

let checked = false;
/**
 * Throws when the oracle Python lacks NumPy/SciPy: a test that calls python() declares
 * `{ skip: needs('numpy') }` (test/helpers/prerequisites.ts), so reaching this without them is a test bug.
 */
export function requireNumpy(): void {
  if (checked) return;
  try {
    execFileSync(PYTHON, ['-c', 'import numpy, scipy'], { stdio: 'pipe' });
  } catch {
    throw new Error(
      `${PYTHON} cannot import numpy and scipy, which these tests use as the reference: ` +
        'install them with `apt-get install python3-numpy python3-scipy`',
    );
  }
  checked = true;
}

/** Runs a Python snippet (with numpy imported as np) and returns its stdout. */
export function python(code: string, args: string[] = []): string {
  requireNumpy();
  return execFileSync(PYTHON, ['-c', `import numpy as np, json, sys\n${code}`, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dendritic-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts fn throws a UserError whose message contains every fragment. */
export function userErrorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if ((err as Error).name !== 'UserError') throw err;
    return (err as Error).message;
  }
  throw new Error('expected a UserError, nothing was thrown');
}
