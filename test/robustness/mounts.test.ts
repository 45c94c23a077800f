/**
 * Issue 26: out directories on any mount, and no command deleting what it did not write.
 * - An out directory that is a bind mount of the same filesystem (as a Docker volume is): rename()
 *   across it fails with EXDEV although both sides have the same device number. Training publishes
 *   anyway (staged inside the out directory). Real bind mounts, in a private mount namespace
 *   (`unshare -m`, root only: skipped elsewhere), and the same paths simulated with DENDRITIC_FAULT.
 * - A read-only bind mount is refused before any work (train, report, experiment), in one line.
 * - A rename that still fails with EXDEV at publish falls back to copy, fsync and verify.
 * - `report` over a `report.html/` folder of the user's refuses instead of deleting it.
 * - A second SIGTERM while a run publishes: the new run is published whole.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CLI, REPO_ROOT, runCli, tempDir, waitForExit, waitForOutput, writeEiDirectory, type CliResult } from '../helpers/ei-data.js';
import { MODEL_FILES, verifyOutDirectory } from './helpers.js';

const { dir: root, cleanup } = tempDir('mounts');
after(cleanup);
const data = join(root, 'data');
const slow = join(root, 'slow');
const TINY = ['--epochs', '2', '--dendrites', '0', '--quiet'];

before(() => {
  mkdirSync(data);
  writeEiDirectory(data, { features: 12, classes: 3, trainRows: 48, valRows: 12 });
  mkdirSync(slow);
  writeEiDirectory(slow, { features: 650, classes: 3, trainRows: 1500, valRows: 60 });
});

/** Whether this process may make mounts in a private namespace (root on Linux). */
const canMount = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none /mnt'], { stdio: 'ignore' }).status === 0;

function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(`${relative(dir, p)}\0`).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI in a private mount namespace where `volume` is bind-mounted on `mountpoint` (read-only
 * when asked): the mount exists only for that process and goes with it.
 */
function cliOnBindMount(volume: string, mountpoint: string, readOnly: boolean, args: readonly string[]): CliResult {
  const ro = readOnly ? ` && mount -o remount,bind,ro ${quote(mountpoint)}` : '';
  const script = `mount --bind ${quote(volume)} ${quote(mountpoint)}${ro} && exec ${quote(process.execPath)} ${[CLI, ...args].map(quote).join(' ')}`;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** report.json is whole and every export it names is there, of the size it measured. */
function assertPublishedWhole(out: string): void {
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { exports: Array<{ file?: string; written?: boolean; bytes?: number }> };
  const written = report.exports.filter((e) => e.written);
  assert.ok(written.length >= 2, 'report.json lists the written exports');
  for (const e of written) assert.equal(statSync(join(out, e.file!)).size, e.bytes, `${e.file} as report.json measured it`);
  assert.ok(existsSync(join(out, 'report.html')));
}

function oneLine(r: CliResult, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.stderr);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: ') || l.startsWith('internal error'));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, pattern);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
}

test(
  'an out directory bind-mounted from the same filesystem (a Docker volume): train and report publish (real mounts)',
  { skip: !canMount && 'needs root for unshare -m' },
  async () => {
    const volume = join(root, 'volume-rw');
    const parent = join(root, 'mnt-rw');
    const mountpoint = join(parent, 'out');
    mkdirSync(volume);
    mkdirSync(mountpoint, { recursive: true });
    for (const round of [1, 2]) {
      const r = cliOnBindMount(volume, mountpoint, false, [
        'train',
        '--data-directory',
        data,
        '--out-directory',
        mountpoint,
        ...TINY,
        '--seed',
        String(round),
      ]);
      assert.equal(r.code, 0, `round ${round}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /EXDEV|internal error/);
      assertPublishedWhole(volume);
      assert.deepEqual(
        readdirSync(volume).filter((n) => n.startsWith('.')),
        [],
        'no staging, lock or probe left in the volume',
      );
      assert.deepEqual(readdirSync(parent), ['out'], 'nothing left beside the mount point');
    }
    // `report` on the same mount re-renders report.html in place.
    const html = readFileSync(join(volume, 'report.html'));
    const r = cliOnBindMount(volume, mountpoint, false, ['report', mountpoint]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(join(volume, 'report.html')).equals(html), 'the same report.html, re-rendered');
    assert.deepEqual(
      readdirSync(volume).filter((n) => n.startsWith('.')),
      [],
    );
  },
);

test(
  'a read-only bind mount is refused before any work: train, report, experiment (real mounts)',
  { skip: !canMount && 'needs root for unshare -m' },
  () => {
    const volume = join(root, 'volume-ro');
    const mountpoint = join(root, 'mnt-ro', 'out');
    mkdirSync(mountpoint, { recursive: true });
    const first = runCli(['train', '--data-directory', data, '--out-directory', volume, ...TINY], { timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stderr);
    const before = hashTree(volume);
    const readOnly = /out-directory: is read-only \(a read-only mount, or not ours\): expected a writable directory; nothing was written/;
    const t0 = performance.now();
    const t = cliOnBindMount(volume, mountpoint, true, [
      'train',
      '--data-directory',
      slow,
      '--out-directory',
      mountpoint,
      '--epochs',
      '200',
      '--dendrites',
      '0',
    ]);
    oneLine(t, 2, readOnly);
    assert.doesNotMatch(t.stderr, /epoch 1\//, 'refused before training');
    assert.ok(performance.now() - t0 < 20_000);
    oneLine(cliOnBindMount(volume, mountpoint, true, ['report', mountpoint]), 2, readOnly);
    const e = cliOnBindMount(volume, mountpoint, true, [
      'experiment',
      '--data-directory',
      data,
      '--out-directory',
      mountpoint,
      '--widths',
      '1',
      '--seeds',
      '1',
      '--modes',
      'gd',
      '--epochs',
      '2',
    ]);
    oneLine(e, 2, readOnly);
    assert.doesNotMatch(e.stderr, /run 1:/);
    assert.equal(hashTree(volume), before, 'the volume is as it was');
  },
);

test('a bind mount simulated (the probe rename fails with EXDEV): staged inside the out directory, published', async () => {
  const out = join(root, 'sim-bind');
  mkdirSync(out);
  const r = runCli(['train', '--data-directory', data, '--out-directory', out, ...TINY], { timeoutMs: 60_000, env: { DENDRITIC_FAULT: 'EXDEV:probe' } });
  assert.equal(r.code, 0, r.stderr);
  assertPublishedWhole(out);
  assert.deepEqual(
    readdirSync(out).filter((n) => n.startsWith('.')),
    [],
  );
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.sim-bind')),
    [],
  );
});

test('a rename that fails with EXDEV at publish: the files are copied, fsynced and verified instead', async () => {
  const out = join(root, 'sim-copy');
  const first = runCli(['train', '--data-directory', data, '--out-directory', out, ...TINY], { timeoutMs: 60_000 });
  assert.equal(first.code, 0, first.stderr);
  const oldReport = readFileSync(join(out, 'report.json'), 'utf8');
  const r = runCli(['train', '--data-directory', data, '--out-directory', out, ...TINY, '--seed', '9'], {
    timeoutMs: 60_000,
    env: { DENDRITIC_FAULT: 'EXDEV:move:report.json' },
  });
  assert.equal(r.code, 0, r.stderr);
  assertPublishedWhole(out);
  assert.notEqual(readFileSync(join(out, 'report.json'), 'utf8'), oldReport, "the new run's report.json, copied in");
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.sim-copy')),
    [],
  );
});

test("`report` never deletes what it did not write: a report.html folder of the user's is refused and kept", () => {
  const out = join(root, 'user-folder');
  const r0 = runCli(['train', '--data-directory', data, '--out-directory', out, ...TINY], { timeoutMs: 60_000 });
  assert.equal(r0.code, 0, r0.stderr);
  const html = join(out, 'report.html');
  // The user replaced report.html by a folder of their own.
  spawnSync('rm', ['-f', html]);
  mkdirSync(html);
  writeFileSync(join(html, 'notes.txt'), 'mine');
  const r = runCli(['report', out]);
  oneLine(
    r,
    2,
    /report\.html: out-directory: report\.html is a folder, not what report writes there: expected it moved away \(it is not removed; nothing was published\)/,
  );
  assert.equal(readFileSync(join(html, 'notes.txt'), 'utf8'), 'mine');
  assert.ok(existsSync(join(out, 'report.json')));
});

/**
 * A run on an out directory that holds an earlier run is stopped by a SIGTERM, and a second SIGTERM comes
 * while its publish pauses at `step` (DENDRITIC_FAULT=SLOW:<step>): the exit must wait until the new run
 * is published whole and nothing of the transaction (staging directory, lock) is left beside it.
 */
async function secondSignalDuring(step: 'replace' | 'finish', name: string): Promise<void> {
  const out = join(root, name);
  const first = runCli(['train', '--data-directory', data, '--out-directory', out, ...TINY, '--export-format', 'all'], { timeoutMs: 60_000 });
  assert.equal(first.code, 0, first.stderr);
  const oldReport = readFileSync(join(out, 'report.json'), 'utf8');
  const child = spawn(
    process.execPath,
    [CLI, 'train', '--data-directory', slow, '--out-directory', out, '--epochs', '10000', '--seed', '3', '--dendrites', '0', '--restarts', '0'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', DENDRITIC_FAULT: `SLOW:${step}` } },
  );
  const exit = waitForExit(child);
  await waitForOutput(child, /epoch 2\/10000 /, 60_000);
  child.kill('SIGTERM');
  await waitForOutput(child, new RegExp(`fault: ${step} paused`), 60_000);
  child.kill('SIGTERM');
  const r = await exit;
  assert.equal(r.code, 143, r.stderr);
  const report = await verifyOutDirectory(out, slow, ['tflite-float', 'tflite-int8']);
  assert.equal(report.timing.stopped_by, 'signal');
  assert.notEqual(readFileSync(join(out, 'report.json'), 'utf8'), oldReport, 'the new run, whole');
  for (const f of [MODEL_FILES['tflite-float'], MODEL_FILES['tflite-int8'], 'report.html']) assert.ok(existsSync(join(out, f)), f);
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith(`.${name}.`)),
    [],
  );
}

test('a second SIGTERM while the run publishes: the new run is published whole, the old one is not half replaced', async () => {
  // the pause sits between moving the old files away and moving the new ones in
  await secondSignalDuring('replace', 'second-signal');
});

test('a second SIGTERM after the files are moved, before the staging directory and the lock are released: the exit waits for them, nothing is left beside the out directory', async () => {
  await secondSignalDuring('finish', 'second-signal-finish');
});
