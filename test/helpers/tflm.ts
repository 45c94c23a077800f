/**
 * TensorFlow Lite Micro as Edge Impulse's SDK ships it, as a test oracle: builds tools/tflm/runner.cc
 * against ../shared/reference/ei-sdk-tflm once per machine (objects cached under
 * $XDG_CACHE_HOME/dendritic/tflm or ~/.cache/dendritic/tflm, keyed by the Makefile, the SDK's README
 * and the compiler, so a clean build of about 1 CPU-minute happens once) and runs .tflite files through it.
 * Two builds: the desktop's 64-bit one and one with a Cortex-M's struct layout (g++ -m32 -fshort-enums).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findSharedDir } from '../../src/util/shared-dir.js';
import { REPO_ROOT, tempDir } from './ei-data.js';
import { needs } from './prerequisites.js';

export type TflmBuild = '64' | 'cortex-m';

export interface TflmRunner {
  build: TflmBuild;
  path: string;
}

export interface TflmRun {
  arenaUsedBytes: number;
  operators: number;
  tensors: number;
  pointerBytes: number;
  /** n x classes probabilities, the int8 output dequantized as the SDK does; empty when no rows were run. */
  probs: Float32Array;
}

const MAKEFILE = join(REPO_ROOT, 'tools/tflm/Makefile');
// arm-none-eabi-gcc lays out TFLM's records like i386 with 1-byte enums (its default -fshort-enums):
// 4-byte pointers, 4-byte alignment of double inside the records TFLM allocates (checked by compile-time
// probes of every record the RAM model uses), so -m32 -fshort-enums runs TFLM with a Cortex-M's layout.
const ARCH_FLAGS: Record<TflmBuild, string[]> = { '64': [], 'cortex-m': ['-m32', '-fshort-enums'] };

function sdkDir(): string {
  return join(findSharedDir(REPO_ROOT), 'reference/ei-sdk-tflm');
}

function compilerVersion(flags: readonly string[]): string {
  const r = spawnSync('g++', [...flags, '--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0]! : '';
}

/** Why a build cannot be made here, or undefined when it can. */
function missing(build: TflmBuild): string | undefined {
  // make and g++ are the README's prerequisites (node-gyp needs them); flock is util-linux (Essential).
  return needs('tflm-sources', ...(build === 'cortex-m' ? (['g++-multilib'] as const) : [])) || undefined;
}

function cacheDir(build: TflmBuild): string {
  const key = createHash('sha256')
    .update(readFileSync(MAKEFILE))
    .update(readFileSync(join(sdkDir(), 'README.md')))
    .update(compilerVersion(ARCH_FLAGS[build]))
    .update(build)
    .digest('hex')
    .slice(0, 16);
  const root = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(root, 'dendritic', 'tflm', `${build}-${key}`);
}

/** Builds (or finds) the runner; returns it, or a reason string for a test's `skip` when it cannot be built. */
export function tflmRunner(build: TflmBuild): TflmRunner | string {
  const why = missing(build);
  if (why) return why;
  const out = cacheDir(build);
  mkdirSync(out, { recursive: true });
  const jobs = String(Math.max(1, Math.min(8, Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || 2)));
  // Test files run in parallel; the lock makes the second one wait for the first build instead of racing it.
  const r = spawnSync(
    'flock',
    [join(out, '.lock'), 'make', '-s', `-j${jobs}`, '-f', MAKEFILE, `SDK=${sdkDir()}`, `OUT=${out}`, `ARCH=${ARCH_FLAGS[build].join(' ')}`],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`TFLM ${build} build failed:\n${r.stderr.slice(-4000)}`);
  return { build, path: join(out, 'tflm-runner') };
}

/** Runs a model (and optionally n float32 rows) through the runner. */
export function runTflm(runner: TflmRunner, model: Uint8Array, rows?: { x: Float32Array; n: number }): TflmRun {
  const { dir, cleanup } = tempDir('dendritic-tflm-');
  try {
    const modelPath = join(dir, 'model.tflite');
    writeFileSync(modelPath, model);
    const args = [modelPath];
    const outPath = join(dir, 'probs.f32');
    if (rows) {
      const rowsPath = join(dir, 'rows.f32');
      writeFileSync(rowsPath, new Uint8Array(rows.x.buffer, rows.x.byteOffset, rows.x.byteLength));
      args.push(rowsPath, String(rows.n), outPath);
    }
    const r = spawnSync(runner.path, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`tflm-runner (${runner.build}) failed: ${r.stderr.trim()}`);
    const info = JSON.parse(r.stdout.split('\n')[0]!) as { arena_used_bytes: number; operators: number; tensors: number; pointer_bytes: number };
    const probs = rows ? new Float32Array(new Uint8Array(readFileSync(outPath)).buffer) : new Float32Array(0);
    return { arenaUsedBytes: info.arena_used_bytes, operators: info.operators, tensors: info.tensors, pointerBytes: info.pointer_bytes, probs };
  } finally {
    cleanup();
  }
}

/** The SDK's own input quantization (pre_cast_quantize) of every value. */
export function quantizeWithSdk(runner: TflmRunner, x: Float32Array, scale: number, zeroPoint: number): Int8Array {
  const { dir, cleanup } = tempDir('dendritic-tflm-q-');
  try {
    const inPath = join(dir, 'x.f32');
    const outPath = join(dir, 'q.i8');
    writeFileSync(inPath, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    // 9 significant digits round-trip a float32 through strtof.
    const r = spawnSync(runner.path, ['--quantize', inPath, Math.fround(scale).toPrecision(9), String(zeroPoint), outPath], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tflm-runner --quantize failed: ${r.stderr.trim()}`);
    return new Int8Array(new Uint8Array(readFileSync(outPath)).buffer);
  } finally {
    cleanup();
  }
}
