/**
 * Summarises experiment runs into one row per (width, dendrite mode) and renders it as markdown.
 * Accuracy is the hold-out score; "relative error reduction" compares mean errors at the same width;
 * "plain at <= params" is the best baseline of any width whose deployed parameter count does not exceed
 * the dendritic mean: the accuracy-versus-parameters front that dendrites have to beat.
 */
import type { RunResult, Variant } from './run.js';
import type { DendriteMode } from './args.js';

export interface Stat {
  mean: number;
  std: number;
  n: number;
}

export interface ExperimentRow {
  width: number;
  mode: DendriteMode;
  seeds: number[];
  baselineParameters: Stat;
  dendriticParameters: Stat;
  baselineAccuracy: Stat;
  dendriticAccuracy: Stat;
  /** Sets kept after training, per seed in `seeds` order. */
  dendriteSets: number[];
  /** (baseline error - dendritic error) / baseline error, from mean accuracies; positive = dendrites help. */
  relativeErrorReduction: number;
  /** Mean over seeds of (dendritic - baseline) accuracy on the same seed. */
  pairedAccuracyGain: Stat;
  /** Widest plain network with no more deployed parameters than the dendritic mean (null when none is). */
  plainAtEqualParameters: { width: number; parameters: number; accuracy: Stat } | null;
  baselineSeconds: number;
  dendriticSeconds: number;
}

export function stat(values: readonly number[]): Stat {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

export function summarise(runs: readonly RunResult[]): ExperimentRow[] {
  const widths = [...new Set(runs.map((r) => r.width))].sort((a, b) => a - b);
  const modes = [...new Set(runs.map((r) => r.variant).filter((v): v is DendriteMode => v !== 'baseline'))];
  const pick = (width: number, variant: Variant): RunResult[] =>
    runs.filter((r) => r.width === width && r.variant === variant).sort((a, b) => a.seed - b.seed);
  const plainByWidth = widths.map((w) => ({ width: w, runs: pick(w, 'baseline') })).filter((p) => p.runs.length > 0);

  const rows: ExperimentRow[] = [];
  for (const width of widths) {
    const baseline = pick(width, 'baseline');
    for (const mode of modes) {
      const dendritic = pick(width, mode);
      if (dendritic.length === 0 || baseline.length === 0) continue;
      const bAcc = stat(baseline.map((r) => r.holdoutAccuracy));
      const dAcc = stat(dendritic.map((r) => r.holdoutAccuracy));
      const dParams = stat(dendritic.map((r) => r.parameters));
      const paired = dendritic
        .map((d) => ({ d, b: baseline.find((b) => b.seed === d.seed) }))
        .filter((p): p is { d: RunResult; b: RunResult } => p.b !== undefined)
        .map((p) => p.d.holdoutAccuracy - p.b.holdoutAccuracy);
      const affordable = plainByWidth.filter((p) => p.runs[0]!.parameters <= dParams.mean);
      const widest = affordable[affordable.length - 1];
      const bErr = 1 - bAcc.mean;
      rows.push({
        width,
        mode,
        seeds: dendritic.map((r) => r.seed),
        baselineParameters: stat(baseline.map((r) => r.parameters)),
        dendriticParameters: dParams,
        baselineAccuracy: bAcc,
        dendriticAccuracy: dAcc,
        dendriteSets: dendritic.map((r) => r.dendriteSets),
        relativeErrorReduction: bErr > 0 ? (bErr - (1 - dAcc.mean)) / bErr : 0,
        pairedAccuracyGain: stat(paired),
        plainAtEqualParameters: widest
          ? { width: widest.width, parameters: widest.runs[0]!.parameters, accuracy: stat(widest.runs.map((r) => r.holdoutAccuracy)) }
          : null,
        baselineSeconds: baseline.reduce((a, r) => a + r.seconds, 0),
        dendriticSeconds: dendritic.reduce((a, r) => a + r.seconds, 0),
      });
    }
  }
  return rows;
}

const pct = (s: Stat): string => `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}`;
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export function renderMarkdown(rows: readonly ExperimentRow[]): string {
  const header = [
    'width', 'mode', 'params plain', 'params dendritic', 'plain acc % (mean ± std)', 'dendritic acc % (mean ± std)',
    'sets added (per seed)', 'rel. error reduction', 'paired gain (pts)', 'widest plain at ≤ params', 'wall s (plain / dendritic)',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const front = r.plainAtEqualParameters
      ? `w${r.plainAtEqualParameters.width} (${count(r.plainAtEqualParameters.parameters)}): ${pct(r.plainAtEqualParameters.accuracy)}`
      : '-';
    const dParams = r.dendriticParameters.std > 0
      ? `${count(r.dendriticParameters.mean)} (±${count(r.dendriticParameters.std)})`
      : count(r.dendriticParameters.mean);
    lines.push(`| ${[
      r.width,
      r.mode,
      count(r.baselineParameters.mean),
      dParams,
      pct(r.baselineAccuracy),
      pct(r.dendriticAccuracy),
      r.dendriteSets.join(', '),
      `${(100 * r.relativeErrorReduction).toFixed(1)}%`,
      `${(100 * r.pairedAccuracyGain.mean).toFixed(1)} ± ${(100 * r.pairedAccuracyGain.std).toFixed(1)}`,
      front,
      `${r.baselineSeconds.toFixed(0)} / ${r.dendriticSeconds.toFixed(0)}`,
    ].join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}
