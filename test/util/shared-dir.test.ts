import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findSharedDir } from '../../src/util/shared-dir.js';

test('findSharedDir: $DENDRITIC_SHARED, then shared/ beside the repo, then beside the repo it was cloned from', () => {
  const root = mkdtempSync(join(tmpdir(), 'dendritic-shared-'));
  const saved = process.env.DENDRITIC_SHARED;
  try {
    delete process.env.DENDRITIC_SHARED;
    const origin = join(root, 'work', 'main');
    mkdirSync(join(root, 'work', 'shared'), { recursive: true });
    mkdirSync(origin, { recursive: true });
    execFileSync('git', ['init', '-q', origin]);
    execFileSync('git', ['-C', origin, 'commit', '-q', '--allow-empty', '-m', 'x'], {
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
    });
    assert.equal(findSharedDir(origin), join(root, 'work', 'shared'));
    const clone = join(root, 'scratch', 'clone');
    execFileSync('git', ['clone', '-q', origin, clone]);
    assert.equal(findSharedDir(clone), join(root, 'work', 'shared'));
    process.env.DENDRITIC_SHARED = join(root, 'work');
    assert.equal(findSharedDir(clone), join(root, 'work'));
    // nothing found: the sibling path, so an error names where it looked
    process.env.DENDRITIC_SHARED = '';
    assert.equal(findSharedDir(join(root, 'nowhere', 'repo')), join(root, 'nowhere', 'shared'));
  } finally {
    if (saved === undefined) delete process.env.DENDRITIC_SHARED;
    else process.env.DENDRITIC_SHARED = saved;
    rmSync(root, { recursive: true, force: true });
  }
});
