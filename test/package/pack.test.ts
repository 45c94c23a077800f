/**
 * Issue 18, issue 24: the npm package installs and imports the way users install. `npm pack` holds only
 * what runs (under 2 MB); the tarball installs into an empty project with a plain `npm install --offline`:
 * no environment variable and no setting in the consumer's package.json (no allowScripts: the ONNX
 * runtime is onnxruntime-web, which has no install script; dendritic's and node-tflite's builds run
 * under npm's defaults). Then `import('dendritic')` works, its type declarations type-check (and a
 * misspelt training parameter does not), a script trains 2 epochs through the API with every export
 * measured, and `npx dendritic --version` runs.
 *
 * Offline: the dependencies come from the npm cache that installing this repository filled, through a
 * lockfile the test derives from package-lock.json (the same pinned versions), so no registry is asked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir, writeEiDirectory } from '../helpers/ei-data.js';

interface PackFile {
  path: string;
  size: number;
}
interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackFile[];
}
interface Lock {
  packages: Record<string, Record<string, unknown>>;
}
interface Pkg {
  name: string;
  version: string;
  license: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: Record<string, string>;
}

/** The environment of a user's shell: none of the variables npm sets for scripts (npm test runs this file). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return env;
}

function run(cmd: string, args: string[], cwd: string, timeout = 120_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: cleanEnv(), timeout });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

const ALLOWED = /^(dist\/.*\.(js|d\.ts)|native\/[^/]+\.(cc|h)|binding\.gyp|parameters\.json|docs\/[^/]+\.md|README\.md|LICENSE|package\.json)$/;

test(
  'npm pack: only what runs, under 2 MB; the tarball installs offline with plain npm install, imports with types, runs npx dendritic',
  { timeout: 240_000 },
  () => {
    const { dir, cleanup } = tempDir('pack');
    try {
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Pkg;
      const p = run('npm', ['pack', '--json', '--pack-destination', dir], REPO_ROOT);
      assert.equal(p.code, 0, p.err);
      const packed = (JSON.parse(p.out) as PackResult[])[0]!;
      assert.ok(packed.size < 2 * 1024 * 1024, `tarball ${packed.size} bytes`);
      const paths = packed.files.map((f) => f.path);
      for (const f of paths) assert.match(f, ALLOWED, `${f} does not belong in the package`);
      for (const f of ['dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'native/kernels.cc', 'binding.gyp', 'parameters.json', 'README.md', 'LICENSE']) {
        assert.ok(paths.includes(f), `${f} is in the package`);
      }
      assert.ok(!paths.some((f) => f.startsWith('dist/bench/')), 'no benchmarks');

      // A user's empty project: the tarball as its one dependency, nothing else.
      const user = join(dir, 'user');
      mkdirSync(user);
      const tarball = `file:../${packed.filename}`;
      writeFileSync(
        join(user, 'package.json'),
        JSON.stringify(
          {
            name: 'user-project',
            private: true,
            type: 'module',
            dependencies: { dendritic: tarball },
          },
          null,
          2,
        ),
      );
      const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Lock;
      const integrity = `sha512-${createHash('sha512')
        .update(readFileSync(join(dir, packed.filename)))
        .digest('base64')}`;
      const packages: Lock['packages'] = {
        '': { name: 'user-project', dependencies: { dendritic: tarball } },
        'node_modules/dendritic': {
          version: pkg.version,
          resolved: tarball,
          integrity,
          hasInstallScript: true,
          license: pkg.license,
          dependencies: pkg.dependencies,
          bin: pkg.bin,
          engines: pkg.engines,
        },
      };
      for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev && !entry.devOptional) packages[path] = entry;
      writeFileSync(join(user, 'package-lock.json'), JSON.stringify({ name: 'user-project', lockfileVersion: 3, requires: true, packages }, null, 2));

      const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund'], user, 180_000);
      assert.equal(install.code, 0, `npm install --offline failed:\n${install.err}\n${install.out}`);
      assert.doesNotMatch(install.err, /nuget|ENOTFOUND/i);

      const imported = run(
        process.execPath,
        ['--input-type=module', '-e', "const m = await import('dendritic'); console.log(Object.keys(m).sort().join(','))"],
        user,
      );
      assert.equal(imported.code, 0, imported.err);
      for (const name of ['train', 'predict', 'loadEiDirectory', 'exportOnnx', 'exportTfliteFloat', 'exportTfliteInt8', 'buildModel', 'UserError']) {
        assert.ok(imported.out.trim().split(',').includes(name), `dendritic exports ${name}: ${imported.out}`);
      }
      const version = run('npx', ['--offline', '--no-install', 'dendritic', '--version'], user);
      assert.equal(version.code, 0, version.err);
      assert.equal(version.out, `${pkg.version}\n`);
      const help = run('npx', ['--offline', '--no-install', 'dendritic', 'predict', '--help'], user);
      assert.equal(help.code, 0, help.err);
      assert.match(help.out, /^Usage: dendritic predict/);

      // The declarations: a user's TypeScript sees the API's types (and rejects misuse).
      writeFileSync(
        join(user, 'use.ts'),
        [
          "import { train, predict, loadEiDirectory, type TrainOptions, type PredictResult } from 'dendritic';",
          "const options: TrainOptions = { dataDirectory: 'data', outDirectory: 'out', parameters: { epochs: 3, dendrites: false } };",
          'export async function go(): Promise<number> { const r = await train(options); const p: PredictResult = await predict({ model: "m.onnx", input: "x.npy", json: false }); return r.exitCode + p.predictions.length + loadEiDirectory("data").features; }',
          '',
        ].join('\n'),
      );
      writeFileSync(join(user, 'misuse.ts'), "import { train } from 'dendritic';\nexport const n: number = train;\n");
      writeFileSync(
        join(user, 'typo.ts'),
        "import { train } from 'dendritic';\nexport const r = train({ dataDirectory: 'd', outDirectory: 'o', parameters: { epoch: 2 } });\n",
      );
      const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const tsArgs = [
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--types',
        'node',
        '--typeRoots',
        join(REPO_ROOT, 'node_modules', '@types'),
      ];
      const good = run(process.execPath, [tsc, ...tsArgs, 'use.ts'], user);
      assert.equal(good.code, 0, good.out + good.err);
      const bad = run(process.execPath, [tsc, ...tsArgs, 'misuse.ts'], user);
      assert.notEqual(bad.code, 0);
      assert.match(bad.out, /misuse\.ts.*TS2322/);
      const typo = run(process.execPath, [tsc, ...tsArgs, 'typo.ts'], user);
      assert.notEqual(typo.code, 0, 'a misspelt parameter does not compile');
      assert.match(typo.out, /typo\.ts.*TS2561.*'epoch'.*Did you mean to write 'epochs'/);

      // A script trains through the API: 2 epochs, ONNX and both TFLite files written and measured.
      const data = join(user, 'data');
      mkdirSync(data);
      writeEiDirectory(data, { trainRows: 60, valRows: 30, seed: 4 });
      writeFileSync(
        join(user, 'train.mjs'),
        [
          "import { train } from 'dendritic';",
          "const r = await train({ dataDirectory: 'data', outDirectory: 'out', parameters: { epochs: 2, exportFormat: 'all' } });",
          'console.log(JSON.stringify({ exitCode: r.exitCode, exports: r.report.exports.map((e) => [e.file ?? null, e.verified_with]) }));',
          '',
        ].join('\n'),
      );
      const trained = run(process.execPath, ['train.mjs'], user, 180_000);
      assert.equal(trained.code, 0, trained.err);
      const result = JSON.parse(trained.out) as { exitCode: number; exports: [string | null, string][] };
      assert.equal(result.exitCode, 0);
      const measured = Object.fromEntries(result.exports.filter(([f]) => f !== null));
      assert.match(measured['model.onnx'] ?? '', /^onnxruntime-web /);
      assert.match(measured['model.tflite'] ?? '', /node-tflite/);
      assert.match(measured['model_quantized_int8_io.tflite'] ?? '', /node-tflite/);
      assert.equal(trained.err, '', 'the API wrote nothing to stderr');
    } finally {
      cleanup();
    }
  },
);
