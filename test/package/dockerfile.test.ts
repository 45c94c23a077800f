/**
 * The block's Dockerfile, read (no Docker engine on the development machines; README "Docker image" has
 * the rehearsal of its stages): two stages, no compiler in the final one, arm64 refused with a message
 * at build time, and the runtime files its trimming step keeps are the ones the installed packages load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/ei-data.js';

const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const stages = dockerfile.split(/^FROM /m).slice(1);

test('two stages: the build stage refuses arm64 before installing anything; the final stage has no compiler and no install', () => {
  assert.equal(stages.length, 2);
  const [build, final] = stages as [string, string];
  assert.match(build, /^node:22-bookworm-slim AS build/);
  const refusal = build.indexOf('dpkg --print-architecture');
  assert.ok(refusal > 0 && refusal < build.indexOf('apt-get install'), 'the architecture check comes first');
  assert.match(build, /linux\/amd64 only.*exit 1/s);
  assert.match(final, /^node:22-bookworm-slim\n/);
  assert.doesNotMatch(final, /apt-get|g\+\+|make|python3|npm (ci|install)/);
  for (const line of final.split('\n').filter((l) => l.startsWith('COPY'))) assert.match(line, /^COPY --from=build /);
  assert.match(final, /^ENTRYPOINT \["node", "\/app\/dist\/cli\.js", "train"\]$/m);
});

test('the files the trimming step keeps are the ones onnxruntime-web and node-tflite load on linux/amd64', () => {
  const kept = [...dockerfile.matchAll(/! -name '([^'*]+)'/g)].map((m) => m[1]!);
  assert.deepEqual(kept.sort(), ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort.node.min.mjs']);
  const ortPkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/onnxruntime-web/package.json'), 'utf8')) as {
    exports: { '.': { node: { import: string } } };
  };
  assert.equal(ortPkg.exports['.'].node.import, './dist/ort.node.min.mjs', "Node's entry point of onnxruntime-web");
  for (const f of kept) assert.ok(existsSync(join(REPO_ROOT, 'node_modules/onnxruntime-web/dist', f)), f);
  assert.ok(
    existsSync(join(REPO_ROOT, 'node_modules/node-tflite/build/Release/libtensorflowlite_c.so')),
    'node-tflite loads its TFLite library from build/Release',
  );
});
