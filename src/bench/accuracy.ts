/**
 * Accuracy of the engine against the PyTorch reference network on the same data directory, the same
 * epochs and the same seeds: Edge Impulse's KWS network, Adam 0.005, batch 32, no learning-rate schedule,
 * no dendrites and no restarts, best-validation epoch kept (what torch_kws_ref.py reports as best_val_acc).
 * One JSON line per seed and a summary line.
 * Usage: node dist/bench/accuracy.js DATA_DIR [epochs=100] [seeds=3] [width=1]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSharedDir } from '../util/shared-dir.js';

const PYTHON = '/usr/bin/python3';
const here = dirname(fileURLToPath(import.meta.url));
const CLI = resolve(here, '../cli.js');
const TORCH_REF = join(findSharedDir(resolve(here, '../..')), 'bench/torch_kws_ref.py');

function torchBestValAcc(dataDir: string, epochs: number, width: number, seed: number): number | null {
  if (!existsSync(TORCH_REF)) return null;
  const r = spawnSync(PYTHON, [TORCH_REF, dataDir, String(epochs), String(width)], { encoding: 'utf8', env: { ...process.env, SEED: String(seed) } });
  const m = /best_val_acc=([\d.]+)/.exec(r.stdout ?? '');
  if (r.status !== 0 || !m) {
    process.stderr.write(`torch reference failed (${r.status}): ${(r.stderr ?? '').trim().split('\n').at(-1)}\n`);
    return null;
  }
  return Number(m[1]);
}

function engineBestValAcc(dataDir: string, epochs: number, width: number, seed: number): number {
  const out = mkdtempSync(join(tmpdir(), 'dendritic-acc-'));
  try {
    const info = join(dataDir, 'train_input.json');
    const args = [
      CLI,
      'train',
      '--data-directory',
      dataDir,
      '--out-directory',
      out,
      '--epochs',
      String(epochs),
      '--width',
      String(width),
      '--seed',
      String(seed),
      '--dendrites',
      '0',
      '--restarts',
      '0',
      '--lr-schedule',
      'none',
      '--export-format',
      'onnx',
      '--quiet',
      ...(existsSync(info) ? ['--info-file', info] : []),
    ];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`dendritic train failed (${r.status}): ${r.stderr}`);
    return (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { validation: { accuracy: number } }).validation.accuracy;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

function main(): void {
  const [dataArg, epochsArg, seedsArg, widthArg] = process.argv.slice(2);
  if (!dataArg) {
    process.stderr.write('usage: node dist/bench/accuracy.js DATA_DIR [epochs=100] [seeds=3] [width=1]\n');
    process.exit(2);
  }
  const dataDir = resolve(dataArg);
  const epochs = Number(epochsArg ?? 100);
  const seeds = Number(seedsArg ?? 3);
  const width = Number(widthArg ?? 1);
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const engine = engineBestValAcc(dataDir, epochs, width, seed);
    const torch = torchBestValAcc(dataDir, epochs, width, seed);
    ours.push(engine);
    if (torch !== null) theirs.push(torch);
    process.stdout.write(`${JSON.stringify({ seed, epochs, width, engine_best_val_acc: engine, torch_best_val_acc: torch })}\n`);
  }
  const summary = {
    summary: true,
    seeds,
    epochs,
    width,
    engine_mean: mean(ours),
    torch_mean: theirs.length === seeds ? mean(theirs) : null,
    difference_points: theirs.length === seeds ? 100 * (mean(ours) - mean(theirs)) : null,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main();
