/**
 * Judges whether the exported files behave like the trained model, from the numbers the export
 * verifier measured. Float exports must agree almost exactly; int8 is allowed a small, stated loss.
 */
import { FLOAT_MAX_PROB_DIFF } from '../export/compare.js';
import type { ExportCheck } from './schema.js';

export type FidelityStatus = 'ok' | 'warn' | 'fail' | 'unverified';

/**
 * Tolerances, stated once so the report can print them next to the verdict. The float limits are the
 * ones the export pipeline fails a run on, so the report never calls "matching" what training rejected.
 */
export const FIDELITY_TOLERANCE = {
  /** float32 exports against the float32 engine: only rounding-order differences are expected. */
  floatMaxProbDiff: FLOAT_MAX_PROB_DIFF,
  floatMinAgreement: 1,
  /** int8: quantisation moves probabilities; a few borderline samples may flip class. */
  int8MinAgreement: 0.95,
  /** Accuracy points int8 may lose when the run does not say (the max-int8-drop default). */
  int8DefaultMaxDropPoints: 1,
} as const;

/** The run's max-int8-drop (points) from report.json's effective configuration, else the default. */
export function int8DropLimitPoints(effectiveConfig: Record<string, { value: unknown }> | undefined): number {
  const v = effectiveConfig?.['max-int8-drop']?.value;
  return typeof v === 'number' && Number.isFinite(v) ? v : FIDELITY_TOLERANCE.int8DefaultMaxDropPoints;
}

export interface FidelityRow {
  check: ExportCheck;
  status: FidelityStatus;
  /** Accuracy minus the engine's accuracy (null when either is unknown). */
  accuracy_delta: number | null;
  reason: string;
}

export interface FidelityVerdict {
  status: FidelityStatus;
  /** One sentence for the summary card. */
  text: string;
  rows: FidelityRow[];
}

function judge(check: ExportCheck, engineAccuracy: number | null, int8MaxDropPoints: number): FidelityRow {
  const delta = check.accuracy !== null && engineAccuracy !== null ? check.accuracy - engineAccuracy : null;
  const row = (status: FidelityStatus, reason: string): FidelityRow => ({ check, status, accuracy_delta: delta, reason });
  if (check.format === 'engine') return row('ok', 'reference');
  if (check.argmax_agreement === null || check.max_prob_diff === null) return row('unverified', 'not run');
  const t = FIDELITY_TOLERANCE;
  if (check.format === 'tflite-int8') {
    if (check.argmax_agreement < t.int8MinAgreement) {
      return row('warn', `only ${(check.argmax_agreement * 100).toFixed(1)}% of predictions agree (expected ≥ ${t.int8MinAgreement * 100}%)`);
    }
    if (delta !== null && -delta * 100 > int8MaxDropPoints + 1e-9) {
      return row('warn', `accuracy drops ${(-delta * 100).toFixed(1)} points (max-int8-drop ${int8MaxDropPoints})`);
    }
    return row('ok', 'within int8 tolerance');
  }
  if (check.max_prob_diff > t.floatMaxProbDiff || check.argmax_agreement < t.floatMinAgreement) {
    return row('fail', `differs from the trained model (max prob diff ${check.max_prob_diff.toExponential(1)})`);
  }
  return row('ok', 'matches');
}

/**
 * Whether the checked file is in the out directory. Reports written before `written` existed named
 * only written files in `file`.
 */
export function isWritten(check: ExportCheck): boolean {
  if (check.format === 'engine') return false;
  return check.written ?? check.file !== undefined;
}

export function fidelityVerdict(exports: ExportCheck[], int8MaxDropPoints: number = FIDELITY_TOLERANCE.int8DefaultMaxDropPoints): FidelityVerdict {
  const engine = exports.find((e) => e.format === 'engine');
  const rows = exports.map((e) => judge(e, engine?.accuracy ?? null, int8MaxDropPoints));
  const files = rows.filter((r) => r.check.format !== 'engine');
  if (files.length === 0) return { status: 'unverified', text: 'no exported file was verified', rows };
  const failed = files.filter((r) => r.status === 'fail');
  const warned = files.filter((r) => r.status === 'warn');
  const unverified = files.filter((r) => r.status === 'unverified');
  if (failed.length) {
    return { status: 'fail', text: `${failed.map((r) => r.check.format).join(', ')} does not match the trained model`, rows };
  }
  if (warned.length) {
    return { status: 'warn', text: `${warned.map((r) => r.check.format).join(', ')}: ${warned[0]!.reason}`, rows };
  }
  if (unverified.length) {
    return { status: 'unverified', text: `${unverified.map((r) => r.check.format).join(', ')} not verified`, rows };
  }
  const written = files.filter((r) => isWritten(r.check));
  const notWritten = files.filter((r) => !isWritten(r.check));
  const also = notWritten.length ? ` (${notWritten.map((r) => r.check.format).join(', ')} verified, not written)` : '';
  if (written.length === 0) return { status: 'ok', text: `every format matches the trained model; no file was written${also}`, rows };
  return { status: 'ok', text: `all ${written.length} exported files match the trained model${also}`, rows };
}
