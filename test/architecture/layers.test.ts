/**
 * The import direction of src/ (CONTRIBUTING, "Layout"): the engine at the bottom, export, data and
 * dendrites above it as peers, commands and the CLI on top. A relative import that crosses a folder
 * against that direction fails here with its file and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../helpers/ei-data.js';

const SRC = join(REPO_ROOT, 'src');

/** Top-level folder (or file) of src/ a path is in: 'engine', 'export', 'errors.ts', ... */
function area(path: string): string {
  return relative(SRC, path).split('/')[0]!;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Edge {
  from: string;
  line: number;
  to: string;
}

const edges: Edge[] = sources(SRC).flatMap((file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((text, i) =>
      [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => ({
        from: file,
        line: i + 1,
        to: resolve(dirname(file), m[1]!).replace(/\.js$/, '.ts'),
      })),
    ),
);

/** What each lower area may import besides itself. */
const ALLOWED: Record<string, readonly string[]> = {
  engine: [],
  export: ['engine', 'errors.ts', 'util'],
  data: ['engine', 'errors.ts', 'util', 'params'],
  dendrites: ['engine', 'errors.ts', 'util', 'params'],
  util: ['errors.ts'],
  params: ['engine', 'errors.ts', 'util'],
  // A sweep runs the block through its CLI (a child process per trial), never the training code.
  sweep: ['errors.ts', 'util', 'params'],
};

test('each lower layer imports only what is below it (engine imports nothing above it)', () => {
  const wrong = edges
    .filter((e) => ALLOWED[area(e.from)] !== undefined && area(e.to) !== area(e.from) && !ALLOWED[area(e.from)]!.includes(area(e.to)))
    .map((e) => `${relative(REPO_ROOT, e.from)}:${e.line} imports ${relative(REPO_ROOT, e.to)}`);
  assert.deepEqual(wrong, []);
});

test('only the CLI, the package entry and other commands import commands/', () => {
  const wrong = edges
    .filter((e) => area(e.to) === 'commands' && !['commands', 'cli', 'index.ts'].includes(area(e.from)))
    .map((e) => `${relative(REPO_ROOT, e.from)}:${e.line} imports ${relative(REPO_ROOT, e.to)}`);
  assert.deepEqual(wrong, []);
});

test('the scan sees the imports it judges (a guard against a regex that matches nothing)', () => {
  assert.ok(edges.some((e) => area(e.from) === 'engine' && area(e.to) === 'engine'));
  assert.ok(edges.some((e) => area(e.from) === 'commands' && area(e.to) === 'export'));
});
