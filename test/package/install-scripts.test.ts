/**
 * npm 10 (Node 20's and 22's npm) runs every dependency's install script, whatever package.json's
 * allowScripts says, and so does a consumer's npm install: an install script that downloads (as
 * onnxruntime-node's did, CUDA binaries from NuGet) fails where only the npm registry is reachable. The
 * lockfile's packages with install scripts are the reviewed ones below, each checked for what it runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/ei-data.js';

/** Package name -> the install-time scripts it has, as reviewed (none of them reaches the network). */
const REVIEWED: Record<string, Record<string, string>> = {
  'node-tflite': { install: 'node-gyp rebuild' }, // npm's implicit one (binding.gyp): links the TFLite library the package holds
  'msgpackr-extract': { install: 'node-gyp-build-optional-packages' }, // finds the prebuilt @msgpackr-extract package, else builds
  protobufjs: { postinstall: 'node scripts/postinstall' }, // prints a version-scheme notice
  esbuild: { postinstall: 'node install.js' }, // dev only (tsx): checks its platform package (an optional dependency) is installed
};

test('every dependency with an install script is a reviewed one that downloads nothing', () => {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
  const withScripts = Object.entries(lock.packages)
    .filter(([path, p]) => path !== '' && p.hasInstallScript)
    .map(([path]) => path);
  for (const path of withScripts) {
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    assert.ok(name in REVIEWED, `${path} has an install script nobody reviewed: check it downloads nothing, then add it here`);
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, path, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
    const installTime = Object.fromEntries(Object.entries(scripts).filter(([k]) => ['preinstall', 'install', 'postinstall'].includes(k)));
    // npm's implicit install script of a package with a binding.gyp and no install/preinstall of its own.
    if (installTime.install === undefined && installTime.preinstall === undefined && existsSync(join(REPO_ROOT, path, 'binding.gyp'))) {
      installTime.install = 'node-gyp rebuild';
    }
    assert.deepEqual(installTime, REVIEWED[name], `${path}'s install-time scripts changed`);
  }
  assert.ok(!withScripts.some((p) => p.endsWith('onnxruntime-node')), 'onnxruntime-node (its install script downloads CUDA binaries) is not a dependency');
});
