import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/**
 * The project's shared folder (reference scripts and data that live outside the repository): $DENDRITIC_SHARED
 * if set, else `shared/` beside the repository, else beside the repository this one was cloned from (a local
 * `git clone` in a scratch directory still finds the oracles). Returns the first candidate that exists, or the
 * sibling path (so an error names where it looked) when none does.
 */
export function findSharedDir(repoRoot: string): string {
  const sibling = resolve(repoRoot, '../shared');
  const candidates = [process.env.DENDRITIC_SHARED, sibling, cloneOriginSibling(repoRoot)];
  return candidates.find((c): c is string => c !== undefined && c !== '' && existsSync(c)) ?? sibling;
}

function cloneOriginSibling(repoRoot: string): string | undefined {
  try {
    const url = execFileSync('git', ['-C', repoRoot, 'config', '--get', 'remote.origin.url'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
    return isAbsolute(path) ? resolve(path, '../shared') : undefined;
  } catch {
    return undefined;
  }
}
