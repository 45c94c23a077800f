/**
 * The optional-tool skips (test/helpers/prerequisites.ts) and `npm test`'s skip summary: with a tool
 * pretended missing, its test is skipped with one line naming the Debian package, the run passes, and the
 * summary at the end lists it with the install command; with every tool present the summary says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, tempDir } from './ei-data.js';
import { MISSING_PREFIX, missingLine, needs } from './prerequisites.js';

/** This process's environment without node:test's marker of a child test process (which would stop the run). */
function childEnv(pretend: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DENDRITIC_TEST_PRETEND_MISSING: pretend };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

function runFixture(pretend: string): { code: number | null; out: string } {
  const { dir, cleanup } = tempDir('prereq');
  try {
    const helper = pathToFileURL(join(REPO_ROOT, 'test/helpers/prerequisites.ts')).href;
    const file = join(dir, 'fixture.test.ts');
    writeFileSync(
      file,
      `import { test } from 'node:test';\nimport { needs } from '${helper}';\n` +
        `test('renders in a browser', { skip: needs('chromium') }, () => {});\n` +
        `test('talks to redis', { skip: needs('redis-server') }, () => {});\n` +
        `test('needs nothing', () => {});\n`,
    );
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        '--test-reporter-destination=stdout',
        `--test-reporter=${join(REPO_ROOT, 'test/helpers/skip-summary.mjs')}`,
        '--test-reporter-destination=stdout',
        file,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', env: childEnv(pretend), timeout: 60_000 },
    );
    return { code: r.status, out: r.stdout + r.stderr };
  } finally {
    cleanup();
  }
}

test('a missing tool is a skip with one line naming the Debian package, and the summary lists it', () => {
  assert.equal(missingLine('chromium'), 'missing prerequisite: Chromium (apt-get install chromium)');
  const reporter = readFileSync(join(REPO_ROOT, 'test/helpers/skip-summary.mjs'), 'utf8');
  assert.ok(reporter.includes(`export const MISSING_PREFIX = '${MISSING_PREFIX}';`), 'the reporter recognises the skip lines');
  assert.equal(
    needs('g++-multilib'),
    process.env.DENDRITIC_TEST_PRETEND_MISSING?.includes('g++-multilib') || !needs('g++-multilib') ? needs('g++-multilib') : false,
  );
  const r = runFixture('chromium,redis-server');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /renders in a browser.*# missing prerequisite: Chromium \(apt-get install chromium\)/);
  assert.match(r.out, /Skipped for a missing optional tool: 2 tests/);
  assert.match(r.out, /To run them: sudo apt-get install chromium redis-server/);
});

test(
  'with every tool present (or none pretended missing), the summary says nothing was skipped for a missing tool',
  { skip: needs('chromium', 'redis-server') },
  () => {
    const r = runFixture('');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /every optional tool was present; none skipped/);
  },
);
