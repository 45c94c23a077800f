/**
 * Every relative link in the project's markdown (README.md, CONTRIBUTING.md, docs/*.md) resolves to a file
 * in the repository, and every `docs/<name>.md` that src/, test/ and the markdown mention exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MARKDOWN = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('docs: every relative markdown link in README.md, CONTRIBUTING.md and docs/*.md resolves', () => {
  const broken: string[] = [];
  for (const file of MARKDOWN) {
    // Code blocks and inline code hold examples, not links.
    const text = readFileSync(join(ROOT, file), 'utf8')
      .replace(/```[\s\S]*?```/g, '')
      .replace(/`[^`\n]*`/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // http:, mailto:, same-page anchors
      const path = decodeURIComponent(target.split('#')[0]!);
      if (!existsSync(resolve(ROOT, dirname(file), path))) broken.push(`${file}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('docs: every docs/<name>.md mentioned in src/, test/ or the markdown exists', () => {
  const missing: string[] = [];
  for (const file of [...filesUnder('src'), ...filesUnder('test'), ...MARKDOWN]) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const m of text.matchAll(/(?<![\w./-])docs\/([\w.-]+\.md)/g)) {
      if (!existsSync(join(ROOT, 'docs', m[1]!))) missing.push(`${relative(ROOT, join(ROOT, file))}: docs/${m[1]}`);
    }
  }
  assert.deepEqual(missing, []);
});
