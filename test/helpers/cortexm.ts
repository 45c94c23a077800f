/**
 * TensorFlow Lite Micro on an emulated Cortex-M4F, as Edge Impulse ships it to one, as a test oracle:
 * tools/cortexm/Makefile cross-builds TFLM (+ CMSIS-NN) from ../shared/reference/ei-sdk-tflm with Debian's
 * arm-none-eabi-gcc for one kernel set, once per machine (objects cached under
 * $XDG_CACHE_HOME/dendritic/cortexm or ~/.cache/dendritic/cortexm, keyed by tools/cortexm/Makefile, the SDK's
 * README and the compiler; the small programs are rebuilt when their sources change), and tools/cortexm/runner.cc runs .tflite files bare-metal under Debian's
 * qemu-system-arm (machine mps2-an386, -icount shift=0: one executed instruction per virtual nanosecond).
 */
import { MISSING_PREFIX, missingLine, needs } from './prerequisites.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findSharedDir } from '../../src/util/shared-dir.js';
import { REPO_ROOT, tempDir } from './ei-data.js';

export type CortexMKernels = 'cmsis-nn' | 'reference';

export interface CortexMBuild {
  kernels: CortexMKernels;
  dir: string;
}

export interface CortexMRun {
  arenaUsedBytes: number;
  operators: number;
  /** Per inference: interpreter construction + AllocateTensors + delete (run_nn_inference's per-call setup). */
  setupInstructions: number[];
  /** Per inference: Invoke(). */
  invokeInstructions: number[];
  /** n x classes probabilities (int8 dequantized as the SDK does). */
  probs: Float32Array;
}

const TOOLS = join(REPO_ROOT, 'tools/cortexm');
const MAKEFILE = join(TOOLS, 'Makefile');

function sdkDir(): string {
  return join(findSharedDir(REPO_ROOT), 'reference/ei-sdk-tflm');
}

const ok = (cmd: string, args: string[], input?: string): boolean => spawnSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'ignore'] }).status === 0;

/**
 * Why the Cortex-M runner cannot be built or run here (prerequisites.ts's one line naming what to install,
 * so npm test's skip summary lists it), or undefined.
 */
function missing(): string | undefined {
  const tool = needs('tflm-sources', 'arm-none-eabi-gcc', 'qemu-system-arm');
  if (tool !== false) return tool;
  if (!ok('make', ['--version'])) return `${MISSING_PREFIX}make (apt-get install make)`;
  if (!ok('flock', ['--version'])) return `${MISSING_PREFIX}flock (apt-get install util-linux)`;
  const probe = (lang: string, specs: string, code: string): boolean =>
    ok(
      'arm-none-eabi-gcc',
      ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16', `--specs=${specs}`, '-x', lang, '-', '-o', '/dev/null'],
      code,
    );
  // the compiler alone is not enough: newlib (semihosting) and libstdc++ are packages of their own
  if (!probe('c', 'rdimon.specs', 'int main(void) { return 0; }\n')) return missingLine('arm-none-eabi-gcc');
  if (
    !ok(
      'arm-none-eabi-g++',
      ['-mcpu=cortex-m4', '-mthumb', '-mfloat-abi=hard', '-mfpu=fpv4-sp-d16', '--specs=nosys.specs', '-x', 'c++', '-', '-o', '/dev/null'],
      '#include <new>\nint main() { return 0; }\n',
    )
  )
    return missingLine('arm-none-eabi-gcc');
  return undefined;
}

// The library (TFLM + CMSIS-NN, minutes to build) is keyed by what it is built from; the programs
// (runner, startup, linker script, size probe: seconds) are relinked when their sources change, which a
// stamp of their contents decides (make's timestamps alone would miss an older checkout's file).
const PROGRAM_SOURCES = ['runner.cc', 'startup.c', 'mps2-an386.ld', 'sizeprobe.cc'];

function cacheDir(kernels: CortexMKernels): string {
  const hash = createHash('sha256')
    .update(readFileSync(MAKEFILE))
    .update(readFileSync(join(sdkDir(), 'README.md')))
    .update(spawnSync('arm-none-eabi-gcc', ['--version'], { encoding: 'utf8' }).stdout ?? '')
    .update(kernels);
  const root = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(root, 'dendritic', 'cortexm', `${kernels}-${hash.digest('hex').slice(0, 16)}`);
}

function dropStalePrograms(dir: string): void {
  const hash = createHash('sha256');
  for (const f of PROGRAM_SOURCES) hash.update(f).update(readFileSync(join(TOOLS, f)));
  const stamp = hash.digest('hex');
  const stampFile = join(dir, 'programs.stamp');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  for (const f of ['obj/runner.o', 'obj/startup.o', 'runner.elf', 'size']) rmSync(join(dir, f), { recursive: true, force: true });
  writeFileSync(stampFile, stamp);
}

function make(dir: string, kernels: CortexMKernels, target?: string): void {
  const jobs = String(Math.max(1, Math.min(8, Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || 2)));
  // Test files run in parallel; the lock makes the second one wait for the first build instead of racing it.
  const args = [join(dir, '.lock'), 'make', '-s', `-j${jobs}`, '-f', MAKEFILE, `SDK=${sdkDir()}`, `OUT=${dir}`, `KERNELS=${kernels}`];
  if (target) args.push(target);
  const r = spawnSync('flock', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`Cortex-M ${kernels} build failed:\n${r.stderr.slice(-4000)}`);
}

/** Builds (or finds) the runner for a kernel set; returns it, or a reason string for a test's `skip`. */
export function cortexMBuild(kernels: CortexMKernels): CortexMBuild | string {
  const why = missing();
  if (why) return why;
  const dir = cacheDir(kernels);
  mkdirSync(dir, { recursive: true });
  // Under the build lock's directory but outside make: two test files starting together may both drop the
  // programs (harmless), and make then rebuilds them once under the lock.
  dropStalePrograms(dir);
  make(dir, kernels);
  return { kernels, dir };
}

function qemu(build: CortexMBuild, cwd: string): string {
  const r = spawnSync(
    'qemu-system-arm',
    [
      '-M',
      'mps2-an386',
      '-nographic',
      '-monitor',
      'none',
      '-serial',
      'none',
      '-icount',
      'shift=0',
      '-semihosting-config',
      'enable=on,target=native',
    ].concat(['-kernel', join(build.dir, 'runner.elf')]),
    { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 },
  );
  if (r.status !== 0 || r.stdout.includes('"error"'))
    throw new Error(`Cortex-M runner (${build.kernels}) failed (${r.status}): ${r.stdout.trim()} ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs a model (and optionally n float32 rows; else one all-zero row) on the emulated Cortex-M4F. */
export function runCortexM(build: CortexMBuild, model: Uint8Array, rows?: { x: Float32Array; n: number }): CortexMRun {
  const { dir, cleanup } = tempDir('dendritic-cortexm-');
  try {
    writeFileSync(join(dir, 'model.tflite'), model);
    if (rows) writeFileSync(join(dir, 'rows.f32'), new Uint8Array(rows.x.buffer, rows.x.byteOffset, rows.n * (rows.x.length / rows.n) * 4));
    const info = JSON.parse(qemu(build, dir).trim().split('\n').pop()!) as {
      arena_used_bytes: number;
      operators: number;
      setup_instructions: number[];
      invoke_instructions: number[];
    };
    return {
      arenaUsedBytes: info.arena_used_bytes,
      operators: info.operators,
      setupInstructions: info.setup_instructions,
      invokeInstructions: info.invoke_instructions,
      probs: new Float32Array(new Uint8Array(readFileSync(join(dir, 'out.f32'))).buffer),
    };
  } finally {
    cleanup();
  }
}

/** Every persistent (tail) allocation AllocateTensors makes, in order, as [size, alignment]. */
export function traceCortexM(build: CortexMBuild, model: Uint8Array): { tail: [number, number][]; head: number } {
  const { dir, cleanup } = tempDir('dendritic-cortexm-trace-');
  try {
    writeFileSync(join(dir, 'model.tflite'), model);
    writeFileSync(join(dir, 'trace'), '');
    const lines = qemu(build, dir).trim().split('\n');
    const tail = lines.filter((l) => l.startsWith('tail ')).map((l) => l.split(' ').slice(1).map(Number) as [number, number]);
    const head = Number(lines.find((l) => l.startsWith('head '))!.split(' ')[1]);
    return { tail, head };
  } finally {
    cleanup();
  }
}

/** Flash (text + data) that TFLM with these operators adds to a firmware: the linked size probe minus an empty main. */
export function linkedCodeBytes(build: CortexMBuild, ops: Iterable<string>): number {
  const names = [...new Set(ops)].sort();
  const target = join(build.dir, 'size', `${names.length ? names.join('+') : 'none'}.size`);
  if (!existsSync(target)) make(build.dir, build.kernels, target);
  return Number(readFileSync(target, 'utf8').trim());
}

export interface CortexMProfile {
  /** Per operator, in graph order: instructions of its kernel's init, prepare and invoke (one inference). */
  init: number[];
  prepare: number[];
  invoke: number[];
}

/** One inference (of `row`, else zeros) with every kernel function timed on its own (tools/cortexm/runner.cc's `profile` mode). */
export function profileCortexM(build: CortexMBuild, model: Uint8Array, row?: Float32Array): CortexMProfile {
  const { dir, cleanup } = tempDir('dendritic-cortexm-profile-');
  try {
    writeFileSync(join(dir, 'model.tflite'), model);
    if (row) writeFileSync(join(dir, 'rows.f32'), new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
    writeFileSync(join(dir, 'profile'), '');
    const p = JSON.parse(qemu(build, dir).trim().split('\n').pop()!) as {
      init_instructions: number[];
      prepare_instructions: number[];
      invoke_instructions: number[];
    };
    return { init: p.init_instructions, prepare: p.prepare_instructions, invoke: p.invoke_instructions };
  } finally {
    cleanup();
  }
}
