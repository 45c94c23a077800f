/**
 * report.json: the one record of a training run, read by people (through report.html) and by scripts.
 * Field names are snake_case and stable; a change that removes or renames a field bumps
 * `schema_version`. Every field is documented in docs/report-json.md.
 *
 * Metrics that can be undefined (no validation split, a diverged loss, an export that was not
 * verified) are `null` rather than NaN, because JSON has no NaN.
 */
import { userError } from '../errors.js';
import type { AudioFeatureSettings } from '../data/audio-features.js';
import { VALUE_SOURCES, type ValueSource } from '../params/parse.js';

/**
 * 4: model.macs and deployment[].macs count by the one MAC rule (docs/report-json.md, "MACs": conv and
 * dense multiply-accumulates only, as counted from the .tflite file; before, they also counted pooling
 * window taps and element-wise dendrite work); 3: deployment[].cortex_m; 2: deployment[] figures are the
 * device's (ram_bytes = TFLM's arena, flash_bytes = file + code) with the fields that say how; 1: estimates.
 * Reports of every version are read (`dendritic report`).
 */
export const REPORT_SCHEMA_VERSION = 4;
export const READABLE_SCHEMA_VERSIONS = [1, 2, 3, 4] as const;

/** A JSON value as it can appear in the effective configuration. */
export type ConfigValue = string | number | boolean | null | ConfigValue[];

export interface ConfigEntry {
  value: ConfigValue;
  /** Where the value came from: 'default', 'cli' (a command-line argument: how Edge Impulse passes every Studio parameter) or 'train_input.json'. */
  source: ValueSource;
}

export interface DataSummary {
  train_samples: number;
  validation_samples: number;
  /** Features per sample (flat length of X's row). */
  features: number;
  classes: string[];
  /** How Y was laid out on disk, e.g. 'one-hot', 'index', 'ei-4-column'. */
  label_layout: string;
  /** Per-sample input shape the model sees, without the batch dimension, e.g. [50, 13]. */
  input_shape: number[];
  /**
   * Present when the data came from `dendritic features`: how audio became one feature row, so that
   * `dendritic predict` computes the same features from a WAV file.
   */
  audio_features?: AudioFeatureSettings;
}

export interface LayerSummary {
  name: string;
  /** Layer kind, e.g. 'conv1d', 'dense', 'maxpool1d', 'dendritic(conv1d)'. */
  kind: string;
  /** Per-sample output shape without the batch dimension. */
  output_shape: number[];
  parameters: number;
}

export interface ModelSummary {
  /** Model family, e.g. 'ei-kws', 'dense', 'conv2d'. */
  family: string;
  /** Width multiplier of the base network (1 = the family's default). */
  width: number;
  /** Trainable parameters of the final model, dendrites included. */
  parameters: number;
  /** Multiply-accumulates for one inference of the final model. */
  macs: number;
  layers: LayerSummary[];
}

export const DENDRITE_EVENT_TYPES = ['added', 'discarded', 'restored_best', 'pruned', 'training_complete', 'time_limit', 'interrupted'] as const;
export type DendriteEventType = (typeof DENDRITE_EVENT_TYPES)[number];

export interface DendriteEvent {
  /** 1-based epoch after which the event happened. */
  epoch: number;
  type: DendriteEventType;
  /** Free text for people, e.g. 'val_acc 0.812 did not beat 0.815'. */
  detail?: string;
}

export const DENDRITE_MODES = ['gd', 'correlation'] as const;
export type DendriteMode = (typeof DENDRITE_MODES)[number];

export interface DendriteSummary {
  enabled: boolean;
  /** 'gd': sets trained by gradient descent with the neurons; 'correlation': candidates trained to correlate with the error. */
  mode: DendriteMode;
  /** Dendrite sets in the final model. */
  added: number;
  /** Sets tried in total (kept or discarded). */
  tried: number;
  /** Sets removed because they did not improve validation. */
  discarded: number;
  /** Sets removed after training because the restored network validated at least as well without them. */
  pruned?: number;
  /** The events of the dendritic run (also when the payoff check shipped the plain network instead). */
  events: DendriteEvent[];
  /**
   * dendrite-payoff-check: present when training kept at least one set. The dendritic model against the
   * widest plain network whose int8 export needs no more RAM and no more flash; the better-validating one
   * was shipped (ties: plain). Absent in reports written before the check existed.
   */
  payoff?: DendritePayoff;
}

/** One candidate of the payoff check, priced by its int8 export under TFLM (as deployment[] prices). */
export interface PayoffCandidate {
  width: number;
  /** Validation accuracy of the trained network (best weights restored). */
  val_acc: number;
  /** TFLM arena_used_bytes on a Cortex-M. */
  ram_bytes: number;
  /** Model file + TFLM runtime and kernel code. */
  flash_bytes: number;
  /** The int8 model file alone, part of flash_bytes. */
  model_bytes: number;
  operators: number;
  /** Estimated milliseconds per inference, as deployment[].latency_ms (not part of the budget: a wider plain network may be slower). */
  latency_ms: number;
  parameters: number;
  /** Multiply-accumulates per inference, counted from the int8 .tflite file. Absent in reports before issue 22. */
  macs?: number;
  /**
   * Plain-first flow (issue 22): each budget figure of this candidate against its limit (max-cost-ratio
   * times the dendrites-off network's figure; `dendrites.payoff.checkbox`), and whether all fit.
   */
  figures?: BudgetFigureCheck[];
  fits?: boolean;
}

/** One device figure against the budget: `name` is ram_bytes, flash_bytes, model_bytes or macs (more may be added). */
export interface BudgetFigureCheck {
  name: string;
  value: number;
  limit: number;
  fits: boolean;
}

export interface DendritePayoff {
  /** Whether a plain network was trained and compared (false: no time left, a signal, or no plain width fits). */
  checked: boolean;
  /** Which network the exports, validation, model and history of this report describe. */
  /** 'wider' (since issue 22, with an explicit budget): `explicit.wider`, the widest plain width within it, trained. */
  shipped: 'dendritic' | 'plain' | 'wider';
  /**
   * The dendritic network. null only in the plain-first flow (`checkbox` present) when no time was left
   * to train it after the dendrites-off run (reason says so); before issue 22 it was never null.
   */
  dendritic:
    | (PayoffCandidate & {
        /** Dendrite sets the dendritic model kept. */
        sets: number;
        /** Plain-first flow: whether its (linear) sets were folded into the layers' weights, so it deploys as the plain network. */
        folded?: boolean;
        /**
         * dendrite-route distill: the candidate is the configured network trained on this dendritic
         * teacher's soft targets (`sets` are the teacher's; the candidate has none).
         */
        distilled?: { form: string; sets: number; val_acc: number; epochs_run: number; stopped_by: StopReason; temperature: number; alpha: number };
        /**
         * Since issue 22's resumable second run, with `checkbox`: the dendritic run's completed epochs (a
         * resumed run counts those before the resume too) and why it ended (`signal`: a SIGTERM/SIGINT
         * stopped it; the candidate is its best weights so far). Absent in earlier reports.
         */
        epochs_run?: number;
        stopped_by?: StopReason;
        /** The dendritic run's epochs, present when the plain network was shipped (history[] is then the plain run's). */
        history?: EpochRecord[];
      })
    | null;
  /** The plain network trained for the comparison; null when none was (see reason). */
  plain:
    | (PayoffCandidate & {
        best_epoch: number;
        epochs_run: number;
        stopped_by: StopReason;
        /** The plain run's events (restarts). */
        events: DendriteEvent[];
      })
    | null;
  /** Why this network was shipped, or why nothing was checked. */
  reason: string;
  /**
   * Present from issue 22 on (the plain-first flow): `plain` is the configured network trained exactly as
   * with dendrites off, first, with the whole time limit; its int8 figures are the budget (`value`),
   * `limit` = ratio x value (max-cost-ratio); the dendritic network trained next from its weights ships
   * only when every figure is within its limit and it validates strictly better. Absent: the earlier
   * flow, in which `plain` was the widest plain network of no more RAM and flash, trained after the
   * dendritic run.
   */
  checkbox?: { ratio: number; budget: Array<{ name: string; value: number; limit: number }> };
  /**
   * Since issue 22, only when max-ram-kb, max-flash-kb or max-latency-ms is set: the explicit budget and
   * each candidate's figures against it (`{ name, value, limit, fits }`: ram_bytes, flash_bytes,
   * latency_ms at target_clock_mhz, only those set). `widest_plain` is the widest plain width within it
   * (priced, not trained), null when none fits.
   */
  explicit?: {
    target_clock_mhz: number;
    latency_reference: string;
    plain: Array<{ name: string; value: number; limit: number; fits: boolean }>;
    dendritic: Array<{ name: string; value: number; limit: number; fits: boolean }> | null;
    widest_plain: { width: number; figures: Array<{ name: string; value: number; limit: number; fits: boolean }>; priced: number } | null;
    /** widest_plain trained as a candidate (when wider than the configured network and time was left); null otherwise, `wider_note` says why. */
    wider: {
      width: number;
      val_acc: number;
      parameters: number;
      epochs_run: number;
      stopped_by: StopReason;
      figures: Array<{ name: string; value: number; limit: number; fits: boolean }>;
    } | null;
    wider_note: string;
  };
}

export const PHASES = ['neuron', 'dendrite'] as const;
export type Phase = (typeof PHASES)[number];

export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  phase: Phase;
  /** Mean training loss over the epoch; null if not finite (diverged). */
  loss: number | null;
  /** Training accuracy, 0..1. */
  acc: number | null;
  /** Validation loss; null without a validation split or when not finite. */
  val_loss: number | null;
  val_acc: number | null;
  /** Learning rate used during the epoch. */
  lr: number;
  /** Wall-clock seconds for the epoch, validation included. */
  seconds: number;
  /** Dendrite sets present during the epoch. */
  dendrite_sets: number;
}

export interface BestEpoch {
  epoch: number;
  val_acc: number | null;
  val_loss: number | null;
}

export interface PerClassMetrics {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  /** Validation samples whose true class this is. */
  support: number;
}

export interface ValidationResult {
  accuracy: number;
  loss: number | null;
  /** confusion[t][p] = samples of true class t predicted as p; classes in data.classes order. */
  confusion: number[][];
  per_class: PerClassMetrics[];
}

export const EXPORT_FORMATS = ['engine', 'onnx', 'tflite-float', 'tflite-int8'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportCheck {
  format: ExportFormat;
  /** File name inside the out directory (absent for 'engine', the in-memory model, and for a file not written). */
  file?: string;
  bytes?: number;
  /**
   * Whether the file is in the out directory. False for a file that was made and verified but not
   * written (model.onnx with export-format tflite, or every file of a run whose verification failed).
   * Absent for 'engine' and in reports written before the field existed (there: written = file present).
   */
  written?: boolean;
  /** Validation accuracy of this format's predictions; null if it could not be run. */
  accuracy: number | null;
  /** Largest absolute difference of any class probability from the engine's, over the validation set. */
  max_prob_diff: number | null;
  /** Fraction of validation samples whose predicted class equals the engine's, 0..1. */
  argmax_agreement: number | null;
  /** What ran the file, e.g. 'onnxruntime-web 1.30.0 (wasm)', 'TensorFlow Lite interpreter (node-tflite)', 'engine'. */
  verified_with: string;
}

export interface DeploymentCost {
  /** The export format: 'tflite-int8', 'tflite-float', 'onnx'. */
  variant: string;
  parameters: number;
  macs: number;
  /**
   * Schema 2: flash the deployment needs, model file plus TFLM runtime and kernel code (measured for a
   * Cortex-M4F). ONNX: the file. Schema 1: the file alone.
   */
  flash_bytes: number;
  /**
   * Schema 2, TFLite: TFLM's arena_used_bytes on a Cortex-M, exactly (planned tensors + persistent
   * records). ONNX: a peak-activation estimate. Schema 1: a lower estimate of the planned tensors alone.
   */
  ram_bytes: number;
  /** Schema 2 (optional in 1): the runtime the figures are for, 'tflm' or 'onnxruntime'. */
  runtime?: 'tflm' | 'onnxruntime';
  /** TFLM's arena on the 64-bit desktop build (Linux/x86-64 deployments); null for ONNX. */
  ram_bytes_64bit?: number | null;
  /** The memory plan (non-constant tensors) and the persistent records, parts of ram_bytes; null for ONNX. */
  ram_planned_bytes?: number | null;
  ram_persistent_bytes?: number | null;
  /** Which TFLM ram_bytes equals (the test suite checks it against that build). */
  ram_checked_against?: string;
  operators?: number;
  tensors?: number;
  /** The model file, part of flash_bytes. */
  model_bytes?: number;
  /** Runtime + kernel code, part of flash_bytes; null for ONNX. */
  code_bytes?: number | null;
  flash_method?: string;
  /**
   * Estimated milliseconds per inference on latency_reference (MACs and operators; the same estimate in
   * schemas 2 and 3); null for ONNX. Schema 3's cortex_m.*.latency_lower_bound_ms is derived from instructions.
   */
  latency_ms?: number | null;
  latency_reference?: string;
  /**
   * Schema 3, TFLite: the deployment Edge Impulse ships to a Cortex-M4F for both kernel sets, CMSIS-NN
   * (default_kernels: the SDK's default on every Cortex-M) and the reference kernels; null for ONNX.
   * Absent in schemas 1 and 2 (whose ram_bytes and flash_bytes are the reference kernels' figures).
   */
  cortex_m?: CortexMDeployment | null;
}

/** One kernel set on a Cortex-M4F, TFLM as Edge Impulse ships it (NDEBUG). */
export interface CortexMKernelCost {
  /** arena_used_bytes with these kernels, exactly. */
  ram_bytes: number;
  /** Instructions of one Invoke() (a model checked within 10% of an emulated Cortex-M4F). */
  invoke_instructions: number;
  /** Instructions of what Edge Impulse's run_nn_inference() repeats on every call: interpreter construction, AllocateTensors, delete. */
  setup_instructions: number;
  /** TFLM code linked for the file's operators with these kernels. */
  code_bytes: number;
  /** model_bytes + code_bytes. */
  flash_bytes: number;
  /** (setup + invoke instructions) / clock_hz in ms: a lower bound (a Cortex-M4 needs at least one cycle per instruction). */
  latency_lower_bound_ms: number;
}

export interface CortexMDeployment {
  /** The kernel set a default Edge Impulse build uses: 'cmsis-nn'. */
  default_kernels: 'cmsis-nn';
  /** The clock latency_lower_bound_ms is stated at. */
  clock_hz: number;
  cmsis_nn: CortexMKernelCost;
  reference: CortexMKernelCost;
  /** How the figures are obtained. */
  method: string;
}

export const STOP_REASONS = ['completed', 'epochs', 'time_limit', 'signal'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export interface Timing {
  training_seconds: number;
  total_seconds: number;
  /** 'completed': the dendrite controller finished (a dendritic run, or restarts); 'epochs': the epoch limit; 'time_limit'; 'signal' (SIGINT/SIGTERM). */
  stopped_by: StopReason;
}

export interface Report {
  schema_version: (typeof READABLE_SCHEMA_VERSIONS)[number];
  /** ISO 8601 timestamp of when the report was written. */
  created: string;
  dendritic_version: string;
  effective_config: Record<string, ConfigEntry>;
  data: DataSummary;
  model: ModelSummary;
  dendrites: DendriteSummary;
  history: EpochRecord[];
  /** The epoch whose weights were kept; null when there was no validation. */
  best: BestEpoch | null;
  /** Final model on the validation split; null when there was no validation split. */
  validation: ValidationResult | null;
  exports: ExportCheck[];
  deployment: DeploymentCost[];
  warnings: string[];
  timing: Timing;
}

// ---------------------------------------------------------------------------------------------
// Validation of a report read from disk. Written by hand (no dependencies); each check names the
// JSON path of the field so a user can find it in their file.

type Json = unknown;

class Checker {
  constructor(private readonly where: string) {}

  fail(path: string, problem: string): never {
    throw userError(this.where, path, problem);
  }

  describe(v: Json): string {
    if (v === null) return 'null';
    if (Array.isArray(v)) return 'an array';
    if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
    if (typeof v === 'number') return `number ${v}`;
    return typeof v;
  }

  object(v: Json, path: string): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `expected an object, got ${this.describe(v)}`);
    return v as Record<string, Json>;
  }

  array(v: Json, path: string): Json[] {
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${this.describe(v)}`);
    return v;
  }

  string(v: Json, path: string): string {
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${this.describe(v)}`);
    return v;
  }

  boolean(v: Json, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `expected true or false, got ${this.describe(v)}`);
    return v;
  }

  number(v: Json, path: string, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a finite number, got ${this.describe(v)}`);
    if (opts.integer && !Number.isInteger(v)) this.fail(path, `expected an integer, got ${v}`);
    if (opts.min !== undefined && v < opts.min) this.fail(path, `expected a number >= ${opts.min}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) this.fail(path, `expected a number <= ${opts.max}, got ${v}`);
    return v;
  }

  nullableNumber(v: Json, path: string, opts: { min?: number; max?: number } = {}): number | null {
    if (v === null) return null;
    if (typeof v !== 'number') this.fail(path, `expected a finite number or null, got ${this.describe(v)}`);
    return this.number(v, path, opts);
  }

  count(v: Json, path: string): number {
    return this.number(v, path, { min: 0, integer: true });
  }

  fraction(v: Json, path: string): number | null {
    return this.nullableNumber(v, path, { min: 0, max: 1 });
  }

  oneOf<T extends string>(v: Json, path: string, allowed: readonly T[]): T {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(path, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${this.describe(v)}`);
    }
    return v as T;
  }

  shape(v: Json, path: string): number[] {
    return this.array(v, path).map((d, i) => this.number(d, `${path}[${i}]`, { min: 0, integer: true }));
  }

  strings(v: Json, path: string): string[] {
    return this.array(v, path).map((s, i) => this.string(s, `${path}[${i}]`));
  }

  configValue(v: Json, path: string): void {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      this.number(v, path);
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((item, i) => this.configValue(item, `${path}[${i}]`));
      return;
    }
    this.fail(path, `expected a string, number, boolean, null or array, got ${this.describe(v)}`);
  }
}

/**
 * Checks that `obj` (parsed JSON) has the structure of a Report and returns it typed.
 * Throws UserError "<where>: <field path>: <expected ...>" on the first problem.
 * Unknown extra fields are allowed (forward compatibility within a schema version).
 */
export function validateReport(obj: unknown, where = 'report.json'): Report {
  const c = new Checker(where);
  const r = c.object(obj, '(top level)');
  checkHeader(c, r);
  checkEffectiveConfig(c, r.effective_config);
  const classes = checkData(c, r.data);
  checkModel(c, r.model);
  checkDendrites(c, r.dendrites);
  checkHistory(c, r.history, 'history');
  if (r.best !== null) checkBest(c, r.best);
  if (r.validation !== null) checkValidation(c, r.validation, classes);
  c.array(r.exports, 'exports').forEach((x, i) => checkExport(c, x, `exports[${i}]`));
  c.array(r.deployment, 'deployment').forEach((x, i) => checkDeployment(c, x, `deployment[${i}]`));
  c.strings(r.warnings, 'warnings');
  checkTiming(c, r.timing);
  return r as unknown as Report;
}

function checkHeader(c: Checker, r: Record<string, Json>): void {
  if (!(READABLE_SCHEMA_VERSIONS as readonly unknown[]).includes(r.schema_version)) {
    c.fail('schema_version', `expected one of ${READABLE_SCHEMA_VERSIONS.join(', ')}, got ${c.describe(r.schema_version)}`);
  }
  const created = c.string(r.created, 'created');
  if (Number.isNaN(Date.parse(created))) c.fail('created', `expected an ISO 8601 timestamp, got ${c.describe(created)}`);
  c.string(r.dendritic_version, 'dendritic_version');
}

function checkEffectiveConfig(c: Checker, v: Json): void {
  const config = c.object(v, 'effective_config');
  for (const [key, entry] of Object.entries(config)) {
    const e = c.object(entry, `effective_config.${key}`);
    if (!('value' in e)) c.fail(`effective_config.${key}.value`, 'missing');
    c.configValue(e.value, `effective_config.${key}.value`);
    c.oneOf(e.source, `effective_config.${key}.source`, VALUE_SOURCES);
  }
}

/** The data section; returns the class names (the confusion matrix is checked against them). */
function checkData(c: Checker, v: Json): string[] {
  const data = c.object(v, 'data');
  c.count(data.train_samples, 'data.train_samples');
  c.count(data.validation_samples, 'data.validation_samples');
  c.count(data.features, 'data.features');
  const classes = c.strings(data.classes, 'data.classes');
  if (classes.length === 0) c.fail('data.classes', 'expected at least one class name');
  c.string(data.label_layout, 'data.label_layout');
  c.shape(data.input_shape, 'data.input_shape');
  if (data.audio_features !== undefined) {
    const a = c.object(data.audio_features, 'data.audio_features');
    for (const key of ['windowSeconds', 'sampleRate', 'frames', 'coeffs'] as const) c.number(a[key], `data.audio_features.${key}`, { min: 0 });
    c.object(a.mfcc, 'data.audio_features.mfcc');
  }
  return classes;
}

function checkModel(c: Checker, v: Json): void {
  const model = c.object(v, 'model');
  c.string(model.family, 'model.family');
  c.number(model.width, 'model.width', { min: 0 });
  c.count(model.parameters, 'model.parameters');
  c.count(model.macs, 'model.macs');
  c.array(model.layers, 'model.layers').forEach((l, i) => {
    const p = `model.layers[${i}]`;
    const layer = c.object(l, p);
    c.string(layer.name, `${p}.name`);
    c.string(layer.kind, `${p}.kind`);
    c.shape(layer.output_shape, `${p}.output_shape`);
    c.count(layer.parameters, `${p}.parameters`);
  });
}

function checkDendrites(c: Checker, v: Json): void {
  const dendrites = c.object(v, 'dendrites');
  c.boolean(dendrites.enabled, 'dendrites.enabled');
  c.oneOf(dendrites.mode, 'dendrites.mode', DENDRITE_MODES);
  c.count(dendrites.added, 'dendrites.added');
  c.count(dendrites.tried, 'dendrites.tried');
  c.count(dendrites.discarded, 'dendrites.discarded');
  // reports written before the field existed stay readable (same schema version: fields are only added)
  if (dendrites.pruned !== undefined) c.count(dendrites.pruned, 'dendrites.pruned');
  c.array(dendrites.events, 'dendrites.events').forEach((ev, i) => checkEvent(c, ev, `dendrites.events[${i}]`));
  if (dendrites.payoff !== undefined) checkPayoff(c, dendrites.payoff);
}

function checkBest(c: Checker, v: Json): void {
  const best = c.object(v, 'best');
  c.number(best.epoch, 'best.epoch', { min: 1, integer: true });
  c.fraction(best.val_acc, 'best.val_acc');
  c.nullableNumber(best.val_loss, 'best.val_loss');
}

function checkValidation(c: Checker, value: Json, classes: string[]): void {
  const v = c.object(value, 'validation');
  c.number(v.accuracy, 'validation.accuracy', { min: 0, max: 1 });
  c.nullableNumber(v.loss, 'validation.loss');
  const rows = c.array(v.confusion, 'validation.confusion');
  if (rows.length !== classes.length) {
    c.fail('validation.confusion', `expected ${classes.length} rows (one per class in data.classes), got ${rows.length}`);
  }
  rows.forEach((row, t) => {
    const cells = c.array(row, `validation.confusion[${t}]`);
    if (cells.length !== classes.length) {
      c.fail(`validation.confusion[${t}]`, `expected ${classes.length} columns, got ${cells.length}`);
    }
    cells.forEach((n, p) => c.count(n, `validation.confusion[${t}][${p}]`));
  });
  c.array(v.per_class, 'validation.per_class').forEach((pc, i) => {
    const p = `validation.per_class[${i}]`;
    const e = c.object(pc, p);
    c.string(e.class, `${p}.class`);
    c.number(e.precision, `${p}.precision`, { min: 0, max: 1 });
    c.number(e.recall, `${p}.recall`, { min: 0, max: 1 });
    c.number(e.f1, `${p}.f1`, { min: 0, max: 1 });
    c.count(e.support, `${p}.support`);
  });
}

function checkExport(c: Checker, x: Json, p: string): void {
  const e = c.object(x, p);
  c.oneOf(e.format, `${p}.format`, EXPORT_FORMATS);
  if (e.file !== undefined) c.string(e.file, `${p}.file`);
  if (e.bytes !== undefined) c.count(e.bytes, `${p}.bytes`);
  if (e.written !== undefined) {
    if (c.boolean(e.written, `${p}.written`) && e.file === undefined) c.fail(`${p}.file`, 'missing: a written file needs its name');
  }
  c.fraction(e.accuracy, `${p}.accuracy`);
  c.nullableNumber(e.max_prob_diff, `${p}.max_prob_diff`, { min: 0 });
  c.fraction(e.argmax_agreement, `${p}.argmax_agreement`);
  c.string(e.verified_with, `${p}.verified_with`);
}

function checkDeployment(c: Checker, x: Json, p: string): void {
  const e = c.object(x, p);
  c.string(e.variant, `${p}.variant`);
  c.count(e.parameters, `${p}.parameters`);
  c.count(e.macs, `${p}.macs`);
  c.count(e.flash_bytes, `${p}.flash_bytes`);
  c.count(e.ram_bytes, `${p}.ram_bytes`);
  // Added in schema 2; a version-1 report has none of them.
  if (e.runtime !== undefined) c.oneOf(e.runtime, `${p}.runtime`, ['tflm', 'onnxruntime'] as const);
  for (const key of ['ram_bytes_64bit', 'ram_planned_bytes', 'ram_persistent_bytes', 'code_bytes', 'latency_ms'] as const) {
    if (e[key] !== undefined) c.nullableNumber(e[key], `${p}.${key}`, { min: 0 });
  }
  for (const key of ['operators', 'tensors', 'model_bytes'] as const) if (e[key] !== undefined) c.count(e[key], `${p}.${key}`);
  for (const key of ['ram_checked_against', 'flash_method', 'latency_reference'] as const) if (e[key] !== undefined) c.string(e[key], `${p}.${key}`);
  // Added in schema 3.
  if (e.cortex_m !== undefined && e.cortex_m !== null) {
    const m = c.object(e.cortex_m, `${p}.cortex_m`);
    c.oneOf(m.default_kernels, `${p}.cortex_m.default_kernels`, ['cmsis-nn'] as const);
    c.number(m.clock_hz, `${p}.cortex_m.clock_hz`, { min: 0 });
    c.string(m.method, `${p}.cortex_m.method`);
    for (const kernels of ['cmsis_nn', 'reference'] as const) {
      const k = c.object(m[kernels], `${p}.cortex_m.${kernels}`);
      for (const key of ['ram_bytes', 'invoke_instructions', 'setup_instructions', 'code_bytes', 'flash_bytes'] as const)
        c.count(k[key], `${p}.cortex_m.${kernels}.${key}`);
      c.number(k.latency_lower_bound_ms, `${p}.cortex_m.${kernels}.latency_lower_bound_ms`, { min: 0 });
    }
  }
}

function checkTiming(c: Checker, v: Json): void {
  const timing = c.object(v, 'timing');
  c.number(timing.training_seconds, 'timing.training_seconds', { min: 0 });
  c.number(timing.total_seconds, 'timing.total_seconds', { min: 0 });
  c.oneOf(timing.stopped_by, 'timing.stopped_by', STOP_REASONS);
}

function checkEvent(c: Checker, ev: Json, p: string): void {
  const e = c.object(ev, p);
  c.count(e.epoch, `${p}.epoch`);
  c.oneOf(e.type, `${p}.type`, DENDRITE_EVENT_TYPES);
  if (e.detail !== undefined) c.string(e.detail, `${p}.detail`);
}

function checkHistory(c: Checker, history: Json, path: string): void {
  c.array(history, path).forEach((h, i) => {
    const p = `${path}[${i}]`;
    const e = c.object(h, p);
    c.number(e.epoch, `${p}.epoch`, { min: 1, integer: true });
    c.oneOf(e.phase, `${p}.phase`, PHASES);
    c.nullableNumber(e.loss, `${p}.loss`);
    c.fraction(e.acc, `${p}.acc`);
    c.nullableNumber(e.val_loss, `${p}.val_loss`);
    c.fraction(e.val_acc, `${p}.val_acc`);
    c.number(e.lr, `${p}.lr`, { min: 0 });
    c.number(e.seconds, `${p}.seconds`, { min: 0 });
    c.count(e.dendrite_sets, `${p}.dendrite_sets`);
  });
}

function checkPayoffCandidate(c: Checker, v: Json, p: string): Record<string, Json> {
  const x = c.object(v, p);
  c.number(x.width, `${p}.width`, { min: 0 });
  c.number(x.val_acc, `${p}.val_acc`, { min: 0, max: 1 });
  for (const key of ['ram_bytes', 'flash_bytes', 'model_bytes', 'operators', 'parameters'] as const) c.count(x[key], `${p}.${key}`);
  c.number(x.latency_ms, `${p}.latency_ms`, { min: 0 });
  return x;
}

function checkFigures(c: Checker, v: Json, p: string): void {
  c.array(v, p).forEach((f, i) => {
    const x = c.object(f, `${p}[${i}]`);
    c.string(x.name, `${p}[${i}].name`);
    c.number(x.value, `${p}[${i}].value`, { min: 0 });
    c.number(x.limit, `${p}[${i}].limit`, { min: 0 });
    if (x.fits !== undefined) c.boolean(x.fits, `${p}[${i}].fits`);
  });
}

function checkCandidateExtras(c: Checker, x: Record<string, Json>, p: string): void {
  if (x.macs !== undefined) c.count(x.macs, `${p}.macs`);
  if (x.figures !== undefined) checkFigures(c, x.figures, `${p}.figures`);
  if (x.fits !== undefined) c.boolean(x.fits, `${p}.fits`);
}

function checkPayoff(c: Checker, v: Json): void {
  const p = 'dendrites.payoff';
  const x = c.object(v, p);
  const checked = c.boolean(x.checked, `${p}.checked`);
  const shipped = c.oneOf(x.shipped, `${p}.shipped`, ['dendritic', 'plain', 'wider'] as const);
  if (x.checkbox !== undefined) {
    const cb = c.object(x.checkbox, `${p}.checkbox`);
    c.number(cb.ratio, `${p}.checkbox.ratio`, { min: 1 });
    checkFigures(c, cb.budget, `${p}.checkbox.budget`);
  }
  if (x.explicit !== undefined) {
    const ex = c.object(x.explicit, `${p}.explicit`);
    c.number(ex.target_clock_mhz, `${p}.explicit.target_clock_mhz`, { min: 0 });
    c.string(ex.latency_reference, `${p}.explicit.latency_reference`);
    checkFigures(c, ex.plain, `${p}.explicit.plain`);
    if (ex.dendritic !== null) checkFigures(c, ex.dendritic, `${p}.explicit.dendritic`);
    if (ex.widest_plain !== null) {
      const w = c.object(ex.widest_plain, `${p}.explicit.widest_plain`);
      c.number(w.width, `${p}.explicit.widest_plain.width`, { min: 0 });
      checkFigures(c, w.figures, `${p}.explicit.widest_plain.figures`);
      c.count(w.priced, `${p}.explicit.widest_plain.priced`);
    }
    c.string(ex.wider_note, `${p}.explicit.wider_note`);
    if (ex.wider !== null) {
      const w = c.object(ex.wider, `${p}.explicit.wider`);
      c.number(w.width, `${p}.explicit.wider.width`, { min: 0 });
      c.number(w.val_acc, `${p}.explicit.wider.val_acc`, { min: 0, max: 1 });
      c.count(w.parameters, `${p}.explicit.wider.parameters`);
      c.count(w.epochs_run, `${p}.explicit.wider.epochs_run`);
      c.oneOf(w.stopped_by, `${p}.explicit.wider.stopped_by`, STOP_REASONS);
      checkFigures(c, w.figures, `${p}.explicit.wider.figures`);
    } else if (shipped === 'wider') c.fail(`${p}.shipped`, "expected explicit.wider when 'wider' shipped");
  } else if (shipped === 'wider') c.fail(`${p}.shipped`, "expected explicit when 'wider' shipped");
  if (x.dendritic === null) {
    if (x.checkbox === undefined) c.fail(`${p}.dendritic`, 'expected the dendritic candidate (null only with checkbox)');
    if (shipped === 'dendritic') c.fail(`${p}.shipped`, "expected 'plain' when no dendritic network was trained");
  } else {
    const d = checkPayoffCandidate(c, x.dendritic, `${p}.dendritic`);
    c.count(d.sets, `${p}.dendritic.sets`);
    if (d.folded !== undefined) c.boolean(d.folded, `${p}.dendritic.folded`);
    if (d.distilled !== undefined) {
      const t = c.object(d.distilled, `${p}.dendritic.distilled`);
      c.oneOf(t.form, `${p}.dendritic.distilled.form`, ['gated', 'merged'] as const);
      c.count(t.sets, `${p}.dendritic.distilled.sets`);
      c.number(t.val_acc, `${p}.dendritic.distilled.val_acc`, { min: 0, max: 1 });
      c.count(t.epochs_run, `${p}.dendritic.distilled.epochs_run`);
      c.oneOf(t.stopped_by, `${p}.dendritic.distilled.stopped_by`, STOP_REASONS);
      c.number(t.temperature, `${p}.dendritic.distilled.temperature`, { min: 0 });
      c.number(t.alpha, `${p}.dendritic.distilled.alpha`, { min: 0, max: 1 });
    }
    if (d.epochs_run !== undefined) c.count(d.epochs_run, `${p}.dendritic.epochs_run`);
    if (d.stopped_by !== undefined) c.oneOf(d.stopped_by, `${p}.dendritic.stopped_by`, STOP_REASONS);
    checkCandidateExtras(c, d, `${p}.dendritic`);
    if (d.history !== undefined) checkHistory(c, d.history, `${p}.dendritic.history`);
  }
  if (x.plain === null) {
    if (checked) c.fail(`${p}.plain`, 'expected the plain candidate when checked is true, got null');
    if (shipped === 'plain') c.fail(`${p}.shipped`, "expected 'dendritic' when no plain network was trained");
  } else {
    const q = checkPayoffCandidate(c, x.plain, `${p}.plain`);
    checkCandidateExtras(c, q, `${p}.plain`);
    c.count(q.best_epoch, `${p}.plain.best_epoch`);
    c.count(q.epochs_run, `${p}.plain.epochs_run`);
    c.oneOf(q.stopped_by, `${p}.plain.stopped_by`, STOP_REASONS);
    c.array(q.events, `${p}.plain.events`).forEach((ev, i) => checkEvent(c, ev, `${p}.plain.events[${i}]`));
  }
  c.string(x.reason, `${p}.reason`);
}
