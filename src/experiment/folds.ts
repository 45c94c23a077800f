/**
 * Pools experiments run on leave-one-group-out folds (tools/loso/run.sh: one group held out per fold,
 * every window scored once). Within a fold, runs pair by seed exactly as in one experiment; across folds
 * the paired differences are pooled, so the standard error counts every (fold, seed) pair once. Plain
 * fronts are per fold: a width's device price and accuracy belong to the data it was trained on.
 */
import type { RunResult } from './run.js';
import type { DendriteMode } from './args.js';
import { devicePairedGains, stat, type Stat } from './table.js';

export interface Fold {
  /** The held-out group. */
  name: string;
  runs: readonly RunResult[];
}

export interface FoldRow {
  fold: string;
  dendriticAccuracy: Stat;
  /** Plain at the mode's own width, same seeds. */
  baselineAccuracy: Stat;
  /** Per run: minus the same seed's best plain width within that run's own TFLM RAM and flash. */
  gainOverDeviceFront: Stat;
  /** Sets in the shipped network, per seed. */
  sets: number[];
  /** Mode 'shipped': how many runs shipped the wider plain network the payoff check trained. */
  plainShipped: number;
}

export interface PooledSummary {
  mode: DendriteMode;
  width: number;
  folds: FoldRow[];
  /** All (fold, seed) pairs together. */
  gainOverDeviceFront: Stat;
  gainOverBaseline: Stat;
  runs: number;
  runsWithSets: number;
  plainShipped: number;
}

export function standardError(s: Stat): number {
  return s.n > 1 ? s.std / Math.sqrt(s.n) : NaN;
}

/** One pooled summary per (mode, width) that every fold ran. */
export function summariseFolds(folds: readonly Fold[]): PooledSummary[] {
  if (folds.length === 0) return [];
  const keys = new Map<string, { mode: DendriteMode; width: number }>();
  for (const r of folds[0]!.runs) if (r.variant !== 'baseline') keys.set(`${r.variant}@${r.width}`, { mode: r.variant, width: r.width });
  const out: PooledSummary[] = [];
  for (const { mode, width } of keys.values()) {
    const rows: FoldRow[] = [];
    const deviceGains: number[] = [];
    const baselineGains: number[] = [];
    for (const fold of folds) {
      const dendritic = fold.runs.filter((r) => r.variant === mode && r.width === width).sort((a, b) => a.seed - b.seed);
      if (dendritic.length === 0) throw new Error(`fold ${fold.name}: no ${mode} runs at width ${width} (every fold must run the same grid)`);
      const baseline = fold.runs.filter((r) => r.variant === 'baseline' && r.width === width);
      const gains = devicePairedGains(fold.runs, dendritic);
      const paired = dendritic.flatMap((d) => {
        const b = baseline.find((x) => x.seed === d.seed);
        return b ? [d.holdoutAccuracy - b.holdoutAccuracy] : [];
      });
      deviceGains.push(...gains);
      baselineGains.push(...paired);
      rows.push({
        fold: fold.name,
        dendriticAccuracy: stat(dendritic.map((r) => r.holdoutAccuracy)),
        baselineAccuracy: stat(baseline.map((r) => r.holdoutAccuracy)),
        gainOverDeviceFront: stat(gains),
        sets: dendritic.map((r) => r.dendriteSets),
        plainShipped: dendritic.filter((r) => r.shipped?.network === 'plain').length,
      });
    }
    out.push({
      mode,
      width,
      folds: rows,
      gainOverDeviceFront: stat(deviceGains),
      gainOverBaseline: stat(baselineGains),
      runs: rows.reduce((a, r) => a + r.sets.length, 0),
      runsWithSets: rows.reduce((a, r) => a + r.sets.filter((s) => s > 0).length, 0),
      plainShipped: rows.reduce((a, r) => a + r.plainShipped, 0),
    });
  }
  return out;
}

const pts = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
const pmSe = (s: Stat): string => (s.n === 0 ? '-' : `${pts(s.mean)} ± ${(100 * standardError(s)).toFixed(1)} (n ${s.n})`);

export function renderFolds(summaries: readonly PooledSummary[]): string {
  let md = '';
  for (const s of summaries) {
    md += `### ${s.mode}, width ${s.width}\n\n`;
    md += '| hold-out | accuracy % | plain same width % | − best plain within its RAM and flash (pts, per run) | sets (per seed) | plain shipped |\n';
    md += '|---|---|---|---|---|---|\n';
    for (const f of s.folds) {
      md += `| ${f.fold} | ${(100 * f.dendriticAccuracy.mean).toFixed(1)} | ${(100 * f.baselineAccuracy.mean).toFixed(1)} | ${pmSe(f.gainOverDeviceFront)} | ${f.sets.join(', ')} | ${f.plainShipped} |\n`;
    }
    md += `\nAll folds (mean ± SE over (fold, seed) pairs): against the best plain width within each run's own TFLM RAM and flash ${pmSe(s.gainOverDeviceFront)} points; `;
    md += `against plain at width ${s.width} ${pmSe(s.gainOverBaseline)} points; runs with a set: ${s.runsWithSets} of ${s.runs}`;
    md += s.mode === 'shipped' ? `; wider plain network shipped: ${s.plainShipped} of ${s.runs}.\n\n` : '.\n\n';
  }
  return md;
}
