/**
 * Shared test fixtures: a small synthetic Edge Impulse data directory (numpy-compatible .npy files
 * written through src/data/npy.ts) and a runner for the built CLI (dist/cli.js) as a child process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '../../src/data/npy.js';
import { Rng } from '../../src/engine/rng.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(REPO_ROOT, 'dist/cli.js');

export interface SyntheticOptions {
  trainRows?: number;
  valRows?: number;
  features?: number;
  classes?: number;
  seed?: number;
  /** 'index' writes (N,) int32 labels 0-based; 'one-hot' writes (N, classes) float32. */
  labels?: 'index' | 'one-hot';
}

export interface SyntheticSplit {
  x: Float32Array;
  y: Int32Array;
}

/**
 * Class c has its mean at +2 on feature c (mod features) and -2 elsewhere in its block, plus unit noise,
 * so a tiny network learns it within a few epochs and the validation accuracy is informative.
 */
export function syntheticSplit(rows: number, features: number, classes: number, rng: Rng): SyntheticSplit {
  const x = new Float32Array(rows * features);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const c = i % classes;
    y[i] = c;
    for (let f = 0; f < features; f++) {
      const mean = f % classes === c ? 1.5 : 0;
      x[i * features + f] = mean + rng.uniform(-1, 1);
    }
  }
  return { x, y };
}

function oneHot(y: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(y.length * classes);
  y.forEach((c, i) => (out[i * classes + c] = 1));
  return out;
}

/** Writes X_split_train/test.npy and Y_split_train/test.npy into `dir`; returns what was written. */
export function writeEiDirectory(
  dir: string,
  opts: SyntheticOptions = {},
): { train: SyntheticSplit; val: SyntheticSplit; features: number; classes: number } {
  const features = opts.features ?? 12;
  const classes = opts.classes ?? 3;
  const rng = new Rng(opts.seed ?? 1);
  const train = syntheticSplit(opts.trainRows ?? 96, features, classes, rng);
  const val = syntheticSplit(opts.valRows ?? 30, features, classes, rng);
  writeSplit(dir, 'train', train, features, classes, opts.labels ?? 'index');
  writeSplit(dir, 'test', val, features, classes, opts.labels ?? 'index');
  return { train, val, features, classes };
}

function writeSplit(dir: string, split: 'train' | 'test', s: SyntheticSplit, features: number, classes: number, labels: 'index' | 'one-hot'): void {
  writeNpy(join(dir, `X_split_${split}.npy`), s.x, [s.y.length, features], 'float32');
  if (labels === 'one-hot') writeNpy(join(dir, `Y_split_${split}.npy`), oneHot(s.y, classes), [s.y.length, classes], 'float32');
  else writeNpy(join(dir, `Y_split_${split}.npy`), s.y, [s.y.length], 'int32');
}

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dendritic-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args` to completion. */
export function runCli(args: readonly string[], opts: { cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {}): CliResult {
  requireBuild();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 60_000,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `node dist/cli.js ...args` and hands back the child for signal tests. */
export function startCli(args: readonly string[]): ChildProcess {
  requireBuild();
  return spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
}

/** Resolves with the child's exit status and everything it printed. */
export function waitForExit(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolveExit) => {
    child.on('close', (code, signal) => resolveExit({ code, signal, stdout, stderr }));
  });
}

/** Resolves once the child's combined output matches `pattern`. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolveMatch, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; got:\n${seen}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        resolveMatch(seen);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
  });
}

/** Model artifacts or temporaries that must not exist after a failed run. */
export function partialArtifacts(outDir: string): string[] {
  if (!existsSync(outDir)) return [];
  return readdirSync(outDir).filter((f) => /\.(onnx|tflite|tmp)$/.test(f) || f.includes('.tmp'));
}

function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}
