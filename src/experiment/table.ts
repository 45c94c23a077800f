/**
 * Summarises experiment runs into one row per (width, dendrite mode) and renders it as markdown.
 * Accuracy is the hold-out score; "relative error reduction" compares mean errors at the same width;
 * "plain at <= params" is the best baseline of any width whose deployed parameter count does not exceed
 * the dendritic mean, "plain at >= params" the narrowest one at or above it, and "front" the plain
 * accuracy interpolated between those two at the dendritic parameter count (linear in log parameters):
 * the accuracy-versus-parameters front. Parameters do not decide what fits a microcontroller: every
 * row is also priced by its deployed int8 model under TFLM (RAM = arena on a Cortex-M, flash = file +
 * code), and "best plain at ≤ RAM and ≤ flash" is the most accurate plain width the same device budget
 * buys, the comparison the dendrites checkbox must not lose.
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
  plainAtEqualParameters: PlainPoint | null;
  /** Narrowest plain network with at least as many deployed parameters as the dendritic mean. */
  plainAtOrAboveParameters: PlainPoint | null;
  /**
   * Plain accuracy at the dendritic mean parameter count, interpolated linearly in log(parameters)
   * between the two bracketing plain widths (null when the count is outside the plain widths' range).
   */
  frontAccuracy: number | null;
  /** Dendritic mean accuracy minus frontAccuracy (positive = dendrites beat widening at equal parameters). */
  gainOverFront: number | null;
  baselineSeconds: number;
  dendriticSeconds: number;
  /** Mean TFLM arena (Cortex-M) and flash (file + code) of the dendritic int8 models. */
  dendriticRamBytes: number;
  dendriticFlashBytes: number;
  /**
   * The most accurate plain width whose int8 model needs no more RAM and no more flash than the dendritic
   * mean (null when none is that small): what the same device budget buys by widening.
   */
  plainWithinDeviceCost: PlainPoint | null;
  /** Dendritic mean accuracy minus plainWithinDeviceCost's (negative = widening wins on the device). */
  gainOverDeviceFront: number | null;
  /**
   * Per seed: the run's hold-out accuracy minus that of the same seed's plain run at the most accurate
   * plain width (by mean) whose RAM and flash fit that run's own cost (runs whose cost no plain width fits
   * are left out). Paired and per run, so a mode whose runs ship different networks (mode 'shipped') is
   * judged run by run, not by its mean cost.
   */
  pairedGainOverDeviceFront: Stat;
  /**
   * Compression (issue 22): the narrowest width at which this mode's runs (e.g. the checkbox's shipped
   * model) match plain width `width`'s mean hold-out accuracy, with that width's mean MACs, TFLM RAM and
   * flash over plain width `width`'s (below 1: the same accuracy for less). null when no width of this
   * mode reaches it.
   */
  compression: Compression | null;
}

export interface Compression {
  width: number;
  accuracy: number;
  /** Mean over the runs; null when a run has no MAC count (experiment.json from before issue 22). */
  macsRatio: number | null;
  ramRatio: number;
  flashRatio: number;
}

/**
 * The narrowest width whose `mode` runs reach plain width `width`'s mean hold-out accuracy (see
 * ExperimentRow.compression); widths are those the mode ran at, the target is the baseline at `width`.
 */
export function compressionAt(runs: readonly RunResult[], mode: DendriteMode, width: number): Compression | null {
  const plain = runs.filter((r) => r.variant === 'baseline' && r.width === width);
  if (plain.length === 0) return null;
  const target = mean(plain.map((r) => r.holdoutAccuracy));
  const widths = [...new Set(runs.filter((r) => r.variant === mode).map((r) => r.width))].sort((a, b) => a - b);
  const macs = (rs: readonly RunResult[]): number | null => (rs.every((r) => r.device.macs !== undefined) ? mean(rs.map((r) => r.device.macs!)) : null);
  for (const w of widths) {
    const rs = runs.filter((r) => r.variant === mode && r.width === w);
    const accuracy = mean(rs.map((r) => r.holdoutAccuracy));
    if (accuracy < target) continue;
    const m = macs(rs);
    const pm = macs(plain);
    return {
      width: w,
      accuracy,
      macsRatio: m === null || pm === null || pm === 0 ? null : m / pm,
      ramRatio: mean(rs.map((r) => r.device.ramBytes)) / mean(plain.map((r) => r.device.ramBytes)),
      flashRatio: mean(rs.map((r) => r.device.flashBytes)) / mean(plain.map((r) => r.device.flashBytes)),
    };
  }
  return null;
}

export interface PlainPoint {
  width: number;
  parameters: number;
  accuracy: Stat;
  /** Mean TFLM arena and flash of the width's int8 models. */
  ramBytes: number;
  flashBytes: number;
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
  const plain = plainFront(runs);

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
      const below = plain.filter((p) => p.parameters <= dParams.mean);
      const widest = below[below.length - 1] ?? null;
      const above = plain.find((p) => p.parameters >= dParams.mean) ?? null;
      const front = interpolateFront(widest, above, dParams.mean);
      const bErr = 1 - bAcc.mean;
      const ram = mean(dendritic.map((r) => r.device.ramBytes));
      const flash = mean(dendritic.map((r) => r.device.flashBytes));
      const affordable = plain.filter((p) => p.ramBytes <= ram && p.flashBytes <= flash);
      const bestAffordable = affordable.reduce<PlainPoint | null>((b, p) => (b === null || p.accuracy.mean > b.accuracy.mean ? p : b), null);
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
        plainAtEqualParameters: widest,
        plainAtOrAboveParameters: above,
        frontAccuracy: front,
        gainOverFront: front === null ? null : dAcc.mean - front,
        baselineSeconds: baseline.reduce((a, r) => a + r.seconds, 0),
        dendriticSeconds: dendritic.reduce((a, r) => a + r.seconds, 0),
        dendriticRamBytes: ram,
        dendriticFlashBytes: flash,
        plainWithinDeviceCost: bestAffordable,
        gainOverDeviceFront: bestAffordable === null ? null : dAcc.mean - bestAffordable.accuracy.mean,
        pairedGainOverDeviceFront: stat(devicePairedGains(runs, dendritic)),
        compression: compressionAt(runs, mode, width),
      });
    }
  }
  return rows;
}

/**
 * Per run: its hold-out accuracy minus that of the same seed's plain run at the most accurate plain width
 * (by mean over seeds) whose int8 model needs no more TFLM RAM and no more flash than that run's own
 * shipped model. Runs no plain width fits, or without a same-seed plain run there, are left out.
 */
export function devicePairedGains(runs: readonly RunResult[], dendritic: readonly RunResult[]): number[] {
  const plain = plainFront(runs);
  return dendritic.flatMap((d) => {
    const fits = plain.filter((p) => p.ramBytes <= d.device.ramBytes && p.flashBytes <= d.device.flashBytes);
    const best = fits.reduce<PlainPoint | null>((b, p) => (b === null || p.accuracy.mean > b.accuracy.mean ? p : b), null);
    const twin = best && runs.find((r) => r.variant === 'baseline' && r.width === best.width && r.seed === d.seed);
    return twin ? [d.holdoutAccuracy - twin.holdoutAccuracy] : [];
  });
}

/** One point per plain width: its parameter count and hold-out accuracy over seeds, by parameters. */
export function plainFront(runs: readonly RunResult[]): PlainPoint[] {
  const widths = [...new Set(runs.filter((r) => r.variant === 'baseline').map((r) => r.width))];
  return widths
    .map((width) => {
      const rs = runs.filter((r) => r.variant === 'baseline' && r.width === width);
      return {
        width,
        parameters: rs[0]!.parameters,
        accuracy: stat(rs.map((r) => r.holdoutAccuracy)),
        ramBytes: mean(rs.map((r) => r.device.ramBytes)),
        flashBytes: mean(rs.map((r) => r.device.flashBytes)),
      };
    })
    .sort((a, b) => a.parameters - b.parameters);
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

function interpolateFront(lo: PlainPoint | null, hi: PlainPoint | null, parameters: number): number | null {
  if (lo === null || hi === null) return null;
  if (hi.parameters === lo.parameters) return (lo.accuracy.mean + hi.accuracy.mean) / 2;
  const t = (Math.log(parameters) - Math.log(lo.parameters)) / (Math.log(hi.parameters) - Math.log(lo.parameters));
  return lo.accuracy.mean + t * (hi.accuracy.mean - lo.accuracy.mean);
}

const pct = (s: Stat): string => `${(100 * s.mean).toFixed(1)} ± ${(100 * s.std).toFixed(1)}`;
const count = (n: number): string => Math.round(n).toLocaleString('en-US');

export function renderMarkdown(rows: readonly ExperimentRow[], front: readonly PlainPoint[] = []): string {
  const header = [
    'width',
    'mode',
    'params plain',
    'params dendritic',
    'plain acc % (mean ± std)',
    'dendritic acc % (mean ± std)',
    'sets kept (per seed)',
    'rel. error reduction',
    'paired gain (pts)',
    'plain at ≤ params',
    'plain at ≥ params',
    'front at equal params % (interp.)',
    'vs front (pts)',
    'RAM / flash dendritic',
    'best plain at ≤ RAM and ≤ flash',
    'vs plain at ≤ device cost (pts)',
    'same, per run and seed (pts, mean ± SE, n)',
    'wall s (plain / dendritic)',
    'narrowest width matching plain at this width: MACs, RAM, flash ratio',
  ];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  const point = (p: PlainPoint | null): string => (p ? `w${p.width} (${count(p.parameters)}): ${pct(p.accuracy)}` : '-');
  for (const r of rows) {
    const dParams =
      r.dendriticParameters.std > 0 ? `${count(r.dendriticParameters.mean)} (±${count(r.dendriticParameters.std)})` : count(r.dendriticParameters.mean);
    lines.push(
      `| ${[
        r.width,
        r.mode,
        count(r.baselineParameters.mean),
        dParams,
        pct(r.baselineAccuracy),
        pct(r.dendriticAccuracy),
        r.dendriteSets.join(', '),
        `${(100 * r.relativeErrorReduction).toFixed(1)}%`,
        `${signed(100 * r.pairedAccuracyGain.mean)} ± ${(100 * r.pairedAccuracyGain.std).toFixed(1)}`,
        point(r.plainAtEqualParameters),
        point(r.plainAtOrAboveParameters),
        r.frontAccuracy === null ? '-' : (100 * r.frontAccuracy).toFixed(1),
        r.gainOverFront === null ? '-' : signed(100 * r.gainOverFront),
        `${kb(r.dendriticRamBytes)} / ${kb(r.dendriticFlashBytes)}`,
        r.plainWithinDeviceCost
          ? `w${r.plainWithinDeviceCost.width} (${kb(r.plainWithinDeviceCost.ramBytes)} / ${kb(r.plainWithinDeviceCost.flashBytes)}): ${pct(r.plainWithinDeviceCost.accuracy)}`
          : '-',
        r.gainOverDeviceFront === null ? '-' : signed(100 * r.gainOverDeviceFront),
        r.pairedGainOverDeviceFront.n === 0
          ? '-'
          : `${signed(100 * r.pairedGainOverDeviceFront.mean)} ± ${((100 * r.pairedGainOverDeviceFront.std) / Math.sqrt(r.pairedGainOverDeviceFront.n)).toFixed(1)} (${r.pairedGainOverDeviceFront.n})`,
        `${r.baselineSeconds.toFixed(0)} / ${r.dendriticSeconds.toFixed(0)}`,
        r.compression
          ? `w${r.compression.width} (${(100 * r.compression.accuracy).toFixed(1)}%): ${r.compression.macsRatio === null ? '-' : r.compression.macsRatio.toFixed(2)}, ${r.compression.ramRatio.toFixed(2)}, ${r.compression.flashRatio.toFixed(2)}`
          : '-',
      ].join(' | ')} |`,
    );
  }
  let out = lines.join('\n') + '\n';
  if (front.length > 0) {
    out +=
      '\nPlain front (baseline runs, every width; RAM = TFLM arena on a Cortex-M, flash = int8 file + TFLM code):\n\n| width | params | RAM | flash | acc % (mean ± std) | seeds |\n|---|---|---|---|---|---|\n';
    for (const p of front)
      out += `| ${p.width} | ${count(p.parameters)} | ${kb(p.ramBytes)} | ${kb(p.flashBytes)} | ${pct(p.accuracy)} | ${p.accuracy.n} |\n`;
  }
  return out;
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
