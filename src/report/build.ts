/** Assembles report.json from what a training run measured. Pure: no I/O. */
import { argmax } from '../export/compare.js';
import type { ExportResult } from '../export/pipeline.js';
import type { LoopResult } from '../train/loop.js';
import {
  REPORT_SCHEMA_VERSION,
  type ConfigEntry,
  type DataSummary,
  type DendritePayoff,
  type DeploymentCost,
  type ExportCheck,
  type ModelSummary,
  type PerClassMetrics,
  type Report,
  type Timing,
  type ValidationResult,
} from './schema.js';

export const DENDRITIC_VERSION = '0.1.0';

export function confusionMatrix(probs: Float32Array, labels: Int32Array, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]!]![argmax(probs, i * classes, classes)]!++;
  return m;
}

export function perClassMetrics(confusion: number[][], names: string[]): PerClassMetrics[] {
  return names.map((name, c) => {
    const tp = confusion[c]![c]!;
    const support = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { class: name, precision, recall, f1, support };
  });
}

export function validationResult(probs: Float32Array, labels: Int32Array, names: string[]): ValidationResult {
  const confusion = confusionMatrix(probs, labels, names.length);
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < labels.length; i++) {
    if (argmax(probs, i * names.length, names.length) === labels[i]) correct++;
    loss -= Math.log(Math.max(probs[i * names.length + labels[i]!]!, 1e-12));
  }
  return {
    accuracy: labels.length ? correct / labels.length : 0,
    loss: labels.length ? loss / labels.length : null,
    confusion,
    per_class: perClassMetrics(confusion, names),
  };
}

/**
 * One check per format. `writtenFiles` are the files that reached the out directory (none when
 * verification failed); a file made and verified but not written says so (`written: false`), so
 * nothing counts it among the exported files.
 */
export function exportChecks(engineAccuracy: number, results: ExportResult[], writtenFiles: ReadonlySet<string>): ExportCheck[] {
  return [
    { format: 'engine', accuracy: engineAccuracy, max_prob_diff: 0, argmax_agreement: 1, verified_with: 'engine' },
    ...results.map((r) => ({
      format: r.format,
      ...(writtenFiles.has(r.file) ? { file: r.file, written: true } : { written: false }),
      bytes: r.bytes.length,
      accuracy: r.comparison.accuracyCandidate,
      max_prob_diff: r.comparison.maxAbsDiff,
      argmax_agreement: r.comparison.argmaxAgreement,
      verified_with: r.verifiedWith,
    })),
  ];
}

export interface ReportInputs {
  effectiveConfig: Record<string, ConfigEntry>;
  data: DataSummary;
  model: ModelSummary;
  dendrites: { enabled: boolean; mode: 'gd' | 'correlation'; added: number; payoff?: DendritePayoff };
  /** The run of the shipped network: history and best. */
  loop: LoopResult;
  /** The dendritic run when the payoff check shipped a plain network instead: dendrites.events are its events. */
  dendriteLoop?: LoopResult;
  validation: ValidationResult;
  exports: ExportCheck[];
  deployment: DeploymentCost[];
  warnings: string[];
  timing: Timing;
}

export function buildReport(i: ReportInputs): Report {
  const events = (i.dendriteLoop ?? i.loop).events.map((e) => ({ epoch: e.epoch, type: e.type, ...(e.detail ? { detail: e.detail } : {}) }));
  const count = (type: string): number => events.filter((e) => e.type === type).length;
  return {
    schema_version: REPORT_SCHEMA_VERSION,
    created: new Date().toISOString(),
    dendritic_version: DENDRITIC_VERSION,
    effective_config: i.effectiveConfig,
    data: i.data,
    model: i.model,
    dendrites: {
      enabled: i.dendrites.enabled,
      mode: i.dendrites.mode,
      added: i.dendrites.added,
      tried: count('added'),
      discarded: count('discarded'),
      pruned: count('pruned'),
      events,
      ...(i.dendrites.payoff ? { payoff: i.dendrites.payoff } : {}),
    },
    history: i.loop.history.map((h) => ({ ...h })),
    best: { epoch: i.loop.best.epoch, val_acc: i.loop.best.val_acc, val_loss: i.loop.best.val_loss },
    validation: i.validation,
    exports: i.exports,
    deployment: i.deployment,
    warnings: i.warnings,
    timing: i.timing,
  };
}
