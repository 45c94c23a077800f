/**
 * A sweep configuration in Weights & Biases' sweep format (YAML): `method` (grid | random | bayes),
 * `metric` ({name, goal}), `parameters` (each block parameter with `value`, `values` or a `distribution`
 * with `min`/`max`), `early_terminate` (hyperband: `min_iter`, `eta`, `s` or `max_iter`) and `run_cap`.
 * Every block parameter of src/params/schema.ts is a sweepable key and every value is checked against
 * the schema; a mistake is a UserError naming the file and the line ("sweep.yaml:7: ...").
 */
import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode, type YAMLMap } from 'yaml';
import { UserError } from '../errors.js';
import { BLOCK_PARAMETERS, SCHEMA, type ParamSpec } from '../params/schema.js';
import { expectation, parseValue } from '../params/values.js';
import { checkConfigFile, checkConfigText, MAX_HYPERBAND_S, MAX_ITER, MAX_RUN_CAP, MAX_SEED, MAX_VALUES } from './limits.js';
import { shapeCdf } from './space.js';

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export const NUMERIC_DISTRIBUTIONS = [
  'uniform',
  'int_uniform',
  'q_uniform',
  'log_uniform_values',
  'q_log_uniform_values',
  'log_uniform',
  'q_log_uniform',
  'inv_log_uniform',
  'inv_log_uniform_values',
  'normal',
  'q_normal',
  'log_normal',
  'q_log_normal',
  'beta',
  'q_beta',
] as const;
/** Distributions W&B defines by mu/sigma or a/b instead of min/max (here truncated to the parameter's range). */
export const SHAPED_DISTRIBUTIONS = ['normal', 'q_normal', 'log_normal', 'q_log_normal', 'beta', 'q_beta'] as const;
export type NumericDistribution = (typeof NUMERIC_DISTRIBUTIONS)[number];
/** categorical_w_probabilities: W&B's schema name of `values` with `probabilities`. */
const DISTRIBUTIONS = ['constant', 'categorical', 'categorical_w_probabilities', ...NUMERIC_DISTRIBUTIONS] as const;

interface DimensionCommon {
  /** The block parameter's flag name (kebab-case), e.g. `learning-rate`. */
  param: string;
  spec: ParamSpec;
}
export type Dimension =
  | (DimensionCommon & { kind: 'fixed'; value: ParamValue })
  | (DimensionCommon & {
      kind: 'choice';
      values: ParamValue[];
      /** W&B's `probabilities`: the chance of each value in random draws (and bayes's prior); absent: equal. */
      probabilities?: number[];
    })
  | (DimensionCommon & {
      kind: 'numeric';
      distribution: NumericDistribution;
      /** Bounds of the value itself (log_uniform's exponent bounds are converted to values). */
      min: number;
      max: number;
      /** Log scale (log_uniform*, q_log_uniform_values). */
      log: boolean;
      /** Rounding step (q_*; 1 for int_uniform and integer parameters). */
      q: number | undefined;
      /**
       * normal / log_normal (mu, sigma) and beta (a, b): the distribution's shape; min and max are then
       * the block parameter's own range, which the distribution is truncated to.
       */
      shape?: { family: 'normal' | 'log_normal'; mu: number; sigma: number } | { family: 'beta'; a: number; b: number };
    });

/**
 * What a sweep can optimise or constrain: validation accuracy and loss of the trained model (judged per
 * epoch by hyperband), and figures of the deployed int8 model from the trial's report.json:
 * int8_accuracy (the int8 TFLite file on the validation set), ram_bytes, flash_bytes, macs and
 * latency_ms (deployment[] of the tflite-int8 variant).
 */
export const METRIC_NAMES = ['accuracy', 'loss', 'int8_accuracy', 'ram_bytes', 'flash_bytes', 'macs', 'latency_ms'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** Metrics known after each epoch (the rest only once the trial has exported its model). */
export const EPOCH_METRICS: readonly MetricName[] = ['accuracy', 'loss'];

/** A bound on a trial's figure: a trial outside it is infeasible (never the best; bayes sees it as worst). */
export interface Constraint {
  name: MetricName;
  min?: number;
  max?: number;
}
export type Goal = 'maximize' | 'minimize';

export interface Hyperband {
  type: 'hyperband';
  /** The first milestone (min_iter, or the lowest of max_iter's brackets). */
  minIter: number;
  eta: number;
  /**
   * W&B's `strict` (default false): true judges a trial on its metric at the milestone epoch; false on
   * its best value up to that epoch (W&B's default, which stops fewer trials).
   */
  strict: boolean;
  /** Epochs at which a trial is judged: min_iter * eta^k, k = 0 .. s-1. */
  milestones: number[];
}

export interface SweepConfig {
  file: string;
  name: string | undefined;
  method: 'grid' | 'random' | 'bayes';
  metric: {
    name: MetricName;
    goal: Goal;
    /** W&B's `target`: once a trial reaches it, no further trial is started (running ones finish). */
    target?: number;
  };
  /** Bounds a trial must meet to count (`constraints:`, a Dendritic addition to W&B's format). */
  constraints: Constraint[];
  /** Trials to run (grid: its size unless run_cap is smaller). */
  trials: number;
  /** Seed of the search (random draws, bayes proposals); not a training parameter. */
  seed: number;
  dimensions: Dimension[];
  earlyTerminate: Hyperband | null;
  /** Keys of W&B's format that have no meaning here (program, command, project, entity): ignored. */
  ignored: string[];
  /** Where this reading differs from W&B's on what the config leaves out, said in the log (e.g. a missing metric.goal). */
  notes?: string[];
}

const METRIC_ALIASES: Record<string, MetricName> = {
  accuracy: 'accuracy',
  val_acc: 'accuracy',
  // Keras's names, as Edge Impulse's Keras blocks log them: the sweep's metrics are the validation split's.
  val_accuracy: 'accuracy',
  'validation.accuracy': 'accuracy',
  loss: 'loss',
  val_loss: 'loss',
  'validation.loss': 'loss',
  int8_accuracy: 'int8_accuracy',
  ram_bytes: 'ram_bytes',
  ram: 'ram_bytes',
  flash_bytes: 'flash_bytes',
  flash: 'flash_bytes',
  macs: 'macs',
  latency_ms: 'latency_ms',
  latency: 'latency_ms',
};
const TOP_KEYS = ['method', 'metric', 'parameters', 'early_terminate', 'run_cap', 'name', 'description', 'seed', 'constraints'];
const IGNORED_KEYS = ['program', 'command', 'project', 'entity', 'controller', 'job', 'image_uri', 'apiVersion', 'kind'];

/** Grid size above which a grid sweep is refused (a typo like values over 1..1e6 would never end). */
export const MAX_GRID = 100000;

class Reader {
  readonly lines = new LineCounter();
  constructor(readonly file: string) {}

  fail(node: YamlNode | null | undefined, field: string, problem: string): UserError {
    const offset = node?.range?.[0];
    const line = offset === undefined ? undefined : this.lines.linePos(offset).line;
    return new UserError(`${this.file}${line ? `:${line}` : ''}: ${field}: ${problem}`);
  }
}

/** The block parameter a sweep key names: `learning-rate`, `learning_rate` or `learningRate`. */
export function blockParameter(key: string): ParamSpec | undefined {
  const kebab = key.replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return BLOCK_PARAMETERS.find((s) => s.param === kebab);
}

function scalarValue(node: YamlNode | null | undefined): unknown {
  if (isScalar(node)) return node.value;
  if (isSeq(node)) return node.items.map((i) => (isScalar(i) ? i.value : undefined));
  return undefined;
}

function entries(map: YAMLMap): Array<{ key: string; keyNode: YamlNode; value: YamlNode | null }> {
  return map.items.map((pair) => ({
    key: String(isScalar(pair.key) ? pair.key.value : pair.key),
    keyNode: pair.key as YamlNode,
    value: (pair.value ?? null) as YamlNode | null,
  }));
}

function number(r: Reader, node: YamlNode | null, field: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
  const v = scalarValue(node);
  if (
    typeof v !== 'number' ||
    !Number.isFinite(v) ||
    (opts.integer && !Number.isInteger(v)) ||
    (opts.min !== undefined && v < opts.min) ||
    (opts.max !== undefined && v > opts.max)
  ) {
    throw r.fail(
      node,
      field,
      `got ${JSON.stringify(v ?? null)}, expected ${opts.integer ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? `${opts.min !== undefined ? ' and' : ''} <= ${opts.max}` : ''}`,
    );
  }
  return v;
}

/** A YAML value of a parameter, checked against the schema exactly as the command line would check it. */
function paramValue(r: Reader, spec: ParamSpec, node: YamlNode | null, field: string): ParamValue {
  const v = scalarValue(node);
  const raw = Array.isArray(v) && spec.type === 'string' ? v.join(',') : v;
  if (!(typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean')) {
    throw r.fail(node, field, `got ${JSON.stringify(v ?? null)}, expected ${expectation(spec)}`);
  }
  const text = typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
  let typed: unknown;
  try {
    typed = parseValue(spec, text);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    throw r.fail(node, field, `got ${JSON.stringify(raw)}, expected ${expectation(spec)}`);
  }
  if (spec.type === 'string') return text; // passed on as written (e.g. "0.001,0.0001")
  return typed as ParamValue;
}

function dimension(r: Reader, param: string, spec: ParamSpec, node: YamlNode | null, at = `parameters.${param}`): Dimension {
  if (!isMap(node)) throw r.fail(node, at, 'expected a mapping with value, values or distribution (+ min/max)');
  const fields = new Map(entries(node).map((e) => [e.key, e]));
  for (const e of fields.values()) {
    if (!['value', 'values', 'distribution', 'min', 'max', 'q', 'probabilities', 'mu', 'sigma', 'a', 'b'].includes(e.key)) {
      throw r.fail(e.keyNode, `${at}.${e.key}`, 'unknown key: expected value, values, probabilities, distribution, min, max, q, mu, sigma, a or b');
    }
  }
  const distNode = fields.get('distribution')?.value ?? null;
  const distribution = fields.has('distribution') ? scalarValue(distNode) : undefined;
  if (distribution !== undefined && !(DISTRIBUTIONS as readonly unknown[]).includes(distribution)) {
    throw r.fail(distNode, `${at}.distribution`, `got ${JSON.stringify(distribution)}, expected one of ${DISTRIBUTIONS.join('|')}`);
  }
  if (fields.has('probabilities') && !fields.has('values')) {
    throw r.fail(fields.get('probabilities')!.keyNode, `${at}.probabilities`, 'goes with values (one probability per value)');
  }
  for (const k of ['mu', 'sigma', 'a', 'b']) {
    if (fields.has(k) && !(SHAPED_DISTRIBUTIONS as readonly unknown[]).includes(distribution)) {
      throw r.fail(
        fields.get(k)!.keyNode,
        `${at}.${k}`,
        `${k} belongs to distribution ${k === 'mu' || k === 'sigma' ? 'normal, q_normal, log_normal or q_log_normal' : 'beta or q_beta'}`,
      );
    }
  }
  if (fields.has('value')) {
    return { param, spec, kind: 'fixed', value: paramValue(r, spec, fields.get('value')!.value, `${at}.value`) };
  }
  if (fields.has('values')) {
    const list = fields.get('values')!.value;
    if (!isSeq(list) || list.items.length === 0) throw r.fail(list, `${at}.values`, 'expected a non-empty list');
    if (list.items.length > MAX_VALUES) throw r.fail(list, `${at}.values`, `${list.items.length} values, expected at most ${MAX_VALUES}`);
    const values = list.items.map((item, i) => paramValue(r, spec, item as YamlNode, `${at}.values[${i}]`));
    if (fields.has('probabilities')) {
      return {
        param,
        spec,
        kind: 'choice',
        values,
        probabilities: readProbabilities(r, fields.get('probabilities')!.value, `${at}.probabilities`, values.length),
      };
    }
    return { param, spec, kind: 'choice', values };
  }
  if ((SHAPED_DISTRIBUTIONS as readonly unknown[]).includes(distribution)) {
    return shapedDimension(r, param, spec, distribution as (typeof SHAPED_DISTRIBUTIONS)[number], fields, distNode, node, at);
  }
  if (!fields.has('min') || !fields.has('max')) {
    throw r.fail(node, at, 'expected value, values, or min and max (with an optional distribution)');
  }
  const minNode = fields.get('min')!.value;
  const maxNode = fields.get('max')!.value;
  const min = number(r, minNode, `${at}.min`);
  const max = number(r, maxNode, `${at}.max`);
  if (!(min < max)) throw r.fail(minNode, `${at}.min`, `got min ${min} and max ${max}, expected min < max`);
  if (spec.type !== 'int' && spec.type !== 'float') {
    throw r.fail(node, at, `a ${spec.type} parameter takes value or values (${expectation(spec)}), not a numeric range`);
  }
  const dist = (distribution ?? (Number.isInteger(min) && Number.isInteger(max) ? 'int_uniform' : 'uniform')) as NumericDistribution;
  if (dist === ('constant' as string) || (dist as string).startsWith('categorical')) {
    throw r.fail(distNode, `${at}.distribution`, `${dist} takes value / values, not min and max`);
  }
  if (fields.has('q') && !dist.startsWith('q_')) throw r.fail(fields.get('q')!.keyNode, `${at}.q`, `q belongs to a q_ distribution, not ${dist}`);
  let q: number | undefined;
  if (dist.startsWith('q_')) q = fields.has('q') ? number(r, fields.get('q')!.value, `${at}.q`) : 1;
  if (q !== undefined && !(q > 0)) throw r.fail(fields.get('q')?.value, `${at}.q`, `got ${q}, expected a number > 0`);
  // A step beyond the range rounds every draw outside it: every trial would fail.
  // (q_log_uniform's min and max are exponents: its largest value is e^max.)
  const span = dist === 'q_log_uniform_values' ? max : dist === 'q_log_uniform' ? Math.exp(max) : max - min;
  if (q !== undefined && q > span) {
    const given = fields.has('q') ? `got ${q}` : `got the default ${q}`;
    throw r.fail(
      fields.get('q')?.value ?? distNode,
      `${at}.q`,
      `${given}, expected a step <= ${dist === 'q_log_uniform_values' ? 'max' : dist === 'q_log_uniform' ? 'e^max' : 'max - min'} (${span})`,
    );
  }
  if (dist === 'int_uniform') {
    if (!Number.isInteger(min) || !Number.isInteger(max)) throw r.fail(minNode, at, 'int_uniform needs integer min and max');
    q = 1;
  }
  const log = dist.includes('log_uniform');
  let lo = min;
  let hi = max;
  if (dist === 'log_uniform' || dist === 'q_log_uniform') {
    lo = Math.exp(min);
    hi = Math.exp(max);
  } else if (dist === 'inv_log_uniform') {
    // W&B: log(1/X) uniform on [min, max], so X is log-uniform on [e^-max, e^-min].
    lo = Math.exp(-max);
    hi = Math.exp(-min);
  } else if (log && !(min > 0)) {
    throw r.fail(minNode, `${at}.min`, `got ${min}, expected a number > 0 for ${dist}`);
  }
  if (spec.type === 'int' && (q === undefined || !Number.isInteger(q))) {
    throw r.fail(
      distNode ?? node,
      at,
      `${spec.param} is an integer parameter: expected int_uniform, or q_uniform / q_log_uniform_values with an integer q`,
    );
  }
  // Both ends must be values the command line accepts.
  for (const [bound, value, where] of [
    ['min', lo, minNode],
    ['max', hi, maxNode],
  ] as const) {
    try {
      parseValue(spec, String(spec.type === 'int' ? Math.round(value) : value));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      throw r.fail(where, `${at}.${bound}`, `got ${value}, expected ${expectation(spec)}`);
    }
  }
  return { param, spec, kind: 'numeric', distribution: dist, min: lo, max: hi, log, q };
}

/** W&B's `probabilities`: one number >= 0 per value, summing to 1 (as W&B's random search requires). */
function readProbabilities(r: Reader, node: YamlNode | null, at: string, count: number): number[] {
  if (!isSeq(node) || node.items.length !== count) {
    throw r.fail(
      node,
      at,
      `got ${isSeq(node) ? `${node.items.length} numbers` : JSON.stringify(scalarValue(node) ?? null)}, expected a list of ${count} (one per value)`,
    );
  }
  const ps = node.items.map((item, i) => number(r, item as YamlNode, `${at}[${i}]`, { min: 0 }));
  const sum = ps.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw r.fail(node, at, `they sum to ${Number(sum.toPrecision(6))}, expected 1`);
  return ps;
}

/**
 * normal, q_normal, log_normal, q_log_normal (mu default 0, sigma default 1) and beta, q_beta (a, b
 * default 1), as W&B draws them, truncated to the block parameter's range: a value the block refuses
 * is never proposed. W&B takes no min/max for these; a range holding (almost) none of the distribution
 * is refused.
 */
function shapedDimension(
  r: Reader,
  param: string,
  spec: ParamSpec,
  dist: (typeof SHAPED_DISTRIBUTIONS)[number],
  fields: Map<string, ReturnType<typeof entries>[number]>,
  distNode: YamlNode | null,
  node: YamlNode,
  at: string,
): Dimension {
  for (const k of ['min', 'max']) {
    if (fields.has(k)) {
      throw r.fail(
        fields.get(k)!.keyNode,
        `${at}.${k}`,
        `${dist} takes ${dist.includes('beta') ? 'a and b' : 'mu and sigma'}, not ${k} (W&B's schema refuses it too); the draws stay inside the parameter's range`,
      );
    }
  }
  if (spec.type !== 'int' && spec.type !== 'float') {
    throw r.fail(node, at, `a ${spec.type} parameter takes value or values (${expectation(spec)}), not a distribution`);
  }
  const opt = (k: string, fallback: number, min?: number) =>
    fields.has(k) ? number(r, fields.get(k)!.value, `${at}.${k}`, min === undefined ? {} : { min }) : fallback;
  let q: number | undefined;
  if (dist.startsWith('q_')) q = opt('q', 1);
  if (q !== undefined && !(q > 0)) throw r.fail(fields.get('q')?.value, `${at}.q`, `got ${q}, expected a number > 0`);
  if (fields.has('q') && q === undefined) throw r.fail(fields.get('q')!.keyNode, `${at}.q`, `q belongs to a q_ distribution, not ${dist}`);
  if (spec.type === 'int' && (q === undefined || !Number.isInteger(q))) {
    throw r.fail(distNode ?? node, at, `${spec.param} is an integer parameter: expected q_${dist.replace(/^q_/, '')} with an integer q`);
  }
  let shape: NonNullable<Extract<Dimension, { kind: 'numeric' }>['shape']>;
  if (dist.includes('beta')) {
    const a = opt('a', 1, 0);
    const b = opt('b', 1, 0);
    if (!(a > 0) || !(b > 0)) throw r.fail(fields.get(a > 0 ? 'b' : 'a')?.value ?? node, at, 'expected a > 0 and b > 0');
    shape = { family: 'beta', a, b };
  } else {
    const sigma = opt('sigma', 1, 0);
    if (!(sigma > 0)) throw r.fail(fields.get('sigma')?.value ?? node, `${at}.sigma`, `got ${sigma}, expected a number > 0`);
    shape = { family: dist.includes('log') ? 'log_normal' : 'normal', mu: opt('mu', 0), sigma };
  }
  const nat = shape.family === 'beta' ? [0, 1] : shape.family === 'log_normal' ? [0, Infinity] : [-Infinity, Infinity];
  const min = Math.max(nat[0]!, spec.min ?? -Infinity);
  const max = Math.min(nat[1]!, spec.max ?? Infinity);
  if (q !== undefined && q > max - min) {
    throw r.fail(
      fields.get('q')?.value ?? distNode ?? node,
      `${at}.q`,
      `${fields.has('q') ? `got ${q}` : `got the default ${q}`}, expected a step <= the range it is drawn in (${max - min}: ${spec.param}'s range${dist.includes('beta') ? ' within [0, 1]' : ''})`,
    );
  }
  const d: Dimension = { param, spec, kind: 'numeric', distribution: dist, min, max, log: false, q, shape };
  const mass = shapeCdf(d, max) - shapeCdf(d, min);
  if (!(min < max) || !(mass > 1e-9)) {
    throw r.fail(
      distNode ?? node,
      at,
      `${dist} puts no probability inside ${spec.param}'s range [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}]: expected mu/sigma or a/b that reach it`,
    );
  }
  return d;
}

type TopLevel = Map<string, ReturnType<typeof entries>[number]>;

/** `metric`: name (an alias of a METRIC_NAMES entry), goal and target; accuracy, maximised, when absent. */
function readMetric(r: Reader, top: TopLevel): SweepConfig['metric'] {
  if (!top.has('metric')) return { name: 'accuracy', goal: 'maximize' };
  const m = top.get('metric')!.value;
  if (!isMap(m)) throw r.fail(m, 'metric', 'expected a mapping with name and goal');
  const mf = new Map(entries(m).map((e) => [e.key, e]));
  for (const e of mf.values()) {
    if (e.key === 'impute' || e.key === 'impute_while_running') {
      throw r.fail(
        e.keyNode,
        `metric.${e.key}`,
        'not supported: a failed trial is left out of the bayes search and a pruned one counts with its final metric; remove the key',
      );
    }
    if (!['name', 'goal', 'target'].includes(e.key)) throw r.fail(e.keyNode, `metric.${e.key}`, 'unknown key: expected name, goal, target');
  }
  const nameNode = mf.get('name')?.value ?? null;
  const name = METRIC_ALIASES[String(scalarValue(nameNode))];
  if (!mf.has('name') || name === undefined) {
    throw r.fail(
      nameNode ?? m,
      'metric.name',
      `got ${JSON.stringify(scalarValue(nameNode) ?? null)}, expected one of ${Object.keys(METRIC_ALIASES).join('|')}`,
    );
  }
  const goalNode = mf.get('goal')?.value ?? null;
  const goal = mf.has('goal') ? scalarValue(goalNode) : name === 'accuracy' || name === 'int8_accuracy' ? 'maximize' : 'minimize';
  if (goal !== 'maximize' && goal !== 'minimize') throw r.fail(goalNode, 'metric.goal', `got ${JSON.stringify(goal)}, expected maximize or minimize`);
  if (mf.has('target')) return { name, goal, target: number(r, mf.get('target')!.value, 'metric.target') };
  return { name, goal };
}

/**
 * `constraints` (not W&B's; Dendritic's addition): bounds on the deployed model, e.g.
 * `constraints: {ram_bytes: {max: 65536}, int8_accuracy: {min: 0.9}}`. A completed trial outside them is
 * recorded as infeasible: never the best trial, and the worst of all to the bayes search.
 */
function readConstraints(r: Reader, top: TopLevel): Constraint[] {
  if (!top.has('constraints')) return [];
  const node = top.get('constraints')!.value;
  if (!isMap(node) || node.items.length === 0) throw r.fail(node, 'constraints', 'expected a mapping like {ram_bytes: {max: 65536}}');
  const out: Constraint[] = [];
  for (const e of entries(node)) {
    const name = METRIC_ALIASES[e.key];
    if (!name) throw r.fail(e.keyNode, `constraints.${e.key}`, `unknown figure: expected one of ${METRIC_NAMES.join('|')}`);
    if (out.some((c) => c.name === name)) throw r.fail(e.keyNode, `constraints.${e.key}`, `${name} is given twice`);
    if (!isMap(e.value) || e.value.items.length === 0) throw r.fail(e.value ?? e.keyNode, `constraints.${e.key}`, 'expected {min: N}, {max: N} or both');
    const c: Constraint = { name };
    for (const b of entries(e.value)) {
      if (b.key !== 'min' && b.key !== 'max') throw r.fail(b.keyNode, `constraints.${e.key}.${b.key}`, 'unknown key: expected min or max');
      c[b.key] = number(r, b.value, `constraints.${e.key}.${b.key}`);
    }
    if (c.min !== undefined && c.max !== undefined && c.min > c.max) {
      throw r.fail(e.value, `constraints.${e.key}`, `got min ${c.min} and max ${c.max}, expected min <= max`);
    }
    out.push(c);
  }
  return out;
}

/** `parameters`: one search dimension per block parameter, each named once. */
function readDimensions(r: Reader, root: YamlNode, paramsNode: YamlNode | null): Dimension[] {
  if (!isMap(paramsNode) || paramsNode.items.length === 0) {
    throw r.fail(paramsNode ?? root, 'parameters', 'expected a mapping of block parameters (e.g. learning-rate: {min: 0.001, max: 0.01})');
  }
  const dimensions: Dimension[] = [];
  // W&B's nested parameters ({group: {parameters: {...}}}) group block parameters; a trial's flags are
  // flat, so the group's name is only a heading and its parameters are swept like any other.
  const collect = (map: YAMLMap, prefix: string) => {
    for (const e of entries(map)) {
      const at = `${prefix}.${e.key}`;
      if (isMap(e.value) && e.value.items.some((pair) => isScalar(pair.key) && pair.key.value === 'parameters')) {
        const inner = entries(e.value);
        const extra = inner.find((x) => x.key !== 'parameters');
        if (extra) throw r.fail(extra.keyNode, `${at}.${extra.key}`, 'unknown key: a nested parameter group holds only parameters');
        const nested = inner[0]!.value;
        if (!isMap(nested) || nested.items.length === 0) throw r.fail(nested ?? e.value, `${at}.parameters`, 'expected a mapping of block parameters');
        collect(nested, `${at}.parameters`);
        continue;
      }
      const spec = blockParameter(e.key);
      if (!spec) {
        const cli = SCHEMA.find((s) => s.param === e.key.replace(/_/g, '-'));
        throw r.fail(
          e.keyNode,
          at,
          cli
            ? 'not a block parameter (the sweep sets the command-line options itself)'
            : `unknown parameter: expected a block parameter (${BLOCK_PARAMETERS.map((s) => s.param).join(', ')}) or a group {parameters: {...}}`,
        );
      }
      if (dimensions.some((d) => d.param === spec.param)) throw r.fail(e.keyNode, at, `${spec.param} is given twice`);
      dimensions.push(dimension(r, spec.param, spec, e.value, prefix === 'parameters' ? `parameters.${spec.param}` : at));
    }
  };
  collect(paramsNode, 'parameters');

  return dimensions;
}

/**
 * `early_terminate`: hyperband's milestones as W&B computes its bands: with max_iter (and s, as W&B
 * requires), floor(max_iter / eta^i) for i = 1 .. s; else min_iter * eta^k for every k (here: up to
 * the largest epoch count a trial can have); null when absent. With both min_iter and max_iter and no
 * s, the milestones min_iter * eta^k up to max_iter.
 */
function readEarlyTerminate(r: Reader, top: TopLevel, metric: SweepConfig['metric']): Hyperband | null {
  if (!top.has('early_terminate')) return null;
  const et = top.get('early_terminate')!.value;
  if (!isMap(et)) throw r.fail(et, 'early_terminate', 'expected a mapping: {type: hyperband, min_iter, eta} or {type: hyperband, max_iter, s, eta}');
  const ef = new Map(entries(et).map((e) => [e.key, e]));
  for (const e of ef.values()) {
    if (!['type', 'min_iter', 'max_iter', 'eta', 's', 'strict'].includes(e.key)) {
      throw r.fail(e.keyNode, `early_terminate.${e.key}`, 'unknown key: expected type, min_iter, max_iter, eta, s, strict');
    }
  }
  const typeNode = ef.get('type')?.value ?? null;
  if (scalarValue(typeNode) !== 'hyperband')
    throw r.fail(typeNode ?? et, 'early_terminate.type', `got ${JSON.stringify(scalarValue(typeNode) ?? null)}, expected hyperband`);
  if (!EPOCH_METRICS.includes(metric.name)) {
    throw r.fail(
      et,
      'early_terminate',
      `hyperband judges trials on a metric of each epoch, and ${metric.name} is known only once a trial has exported its model: expected metric accuracy or loss (put ${metric.name} in constraints), or no early_terminate`,
    );
  }
  const eta = ef.has('eta') ? number(r, ef.get('eta')!.value, 'early_terminate.eta', { min: 1.01 }) : 3;
  let strict = false;
  if (ef.has('strict')) {
    const v = scalarValue(ef.get('strict')!.value);
    if (typeof v !== 'boolean')
      throw r.fail(ef.get('strict')!.value, 'early_terminate.strict', `got ${JSON.stringify(v ?? null)}, expected true or false`);
    strict = v;
  }
  const minIter = ef.has('min_iter')
    ? number(r, ef.get('min_iter')!.value, 'early_terminate.min_iter', { integer: true, min: 1, max: MAX_ITER })
    : undefined;
  const maxIter = ef.has('max_iter')
    ? number(r, ef.get('max_iter')!.value, 'early_terminate.max_iter', { integer: true, min: minIter ?? 1, max: MAX_ITER })
    : undefined;
  const s = ef.has('s') ? number(r, ef.get('s')!.value, 'early_terminate.s', { integer: true, min: 1, max: MAX_HYPERBAND_S }) : undefined;
  let milestones: number[];
  if (maxIter !== undefined && s !== undefined) {
    milestones = [];
    let band = maxIter;
    for (let i = 0; i < s; i++) {
      band /= eta;
      if (band < 1) break;
      if (!milestones.includes(Math.floor(band))) milestones.push(Math.floor(band));
    }
    milestones.sort((a, b) => a - b);
    if (milestones.length === 0) throw r.fail(et, 'early_terminate.max_iter', `max_iter ${maxIter} / eta ${eta} is below 1: expected a larger max_iter`);
  } else if (minIter !== undefined) {
    // W&B's bands go on for ever (100 of them); here the first MAX_HYPERBAND_S up to the epoch limit.
    milestones = hyperbandMilestones(minIter, eta, MAX_HYPERBAND_S, maxIter ?? MAX_ITER);
  } else if (maxIter !== undefined) {
    throw r.fail(et, 'early_terminate.s', 'missing: max_iter needs s, the number of brackets counted back from it (as in W&B), or give min_iter');
  } else throw r.fail(et, 'early_terminate.min_iter', 'missing: expected min_iter (the first epoch at which trials are judged), or max_iter and s');
  return { type: 'hyperband', minIter: milestones[0]!, eta, strict, milestones };
}

/** How many trials: the grid's size (capped by run_cap), or run_cap for random and bayes. */
function trialCount(
  r: Reader,
  root: YamlNode,
  top: TopLevel,
  method: SweepConfig['method'],
  paramsNode: YamlNode | null,
  dimensions: Dimension[],
): number {
  let runCap: number | undefined;
  if (top.has('run_cap')) runCap = number(r, top.get('run_cap')!.value, 'run_cap', { integer: true, min: 1, max: MAX_RUN_CAP });
  if (method === 'grid') {
    for (const d of dimensions) {
      if (d.kind === 'numeric') throw r.fail(paramsNode, `parameters.${d.param}`, 'method grid needs value or values for every parameter');
    }
    const size = dimensions.reduce((n, d) => n * (d.kind === 'choice' ? d.values.length : 1), 1);
    if (size > MAX_GRID) throw r.fail(paramsNode, 'parameters', `the grid has ${size} points, expected at most ${MAX_GRID}`);
    return Math.min(size, runCap ?? size);
  } else {
    if (runCap === undefined) throw r.fail(root, 'run_cap', `missing: method ${method} needs run_cap, the number of trials`);
    return runCap;
  }
}

/** Parses and checks the YAML text of a sweep configuration; `file` names it in errors. */
export function parseSweepConfig(text: string, file: string): SweepConfig {
  checkConfigText(text, file);
  const r = new Reader(file);
  const doc = parseDocument(text, { lineCounter: r.lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? (e.pos?.[0] !== undefined ? r.lines.linePos(e.pos[0]).line : undefined);
    throw new UserError(`${file}${line ? `:${line}` : ''}: YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents as YamlNode | null;
  if (!isMap(root)) throw r.fail(root, 'top level', 'expected a mapping with method, metric and parameters');
  const top = new Map(entries(root).map((e) => [e.key, e]));
  const ignored: string[] = [];
  for (const e of top.values()) {
    if (IGNORED_KEYS.includes(e.key)) ignored.push(e.key);
    else if (!TOP_KEYS.includes(e.key)) throw r.fail(e.keyNode, e.key, `unknown key: expected ${TOP_KEYS.join(', ')}`);
  }

  const methodNode = top.get('method')?.value ?? null;
  const method = scalarValue(methodNode);
  if (!top.has('method')) throw r.fail(root, 'method', 'missing: expected grid, random or bayes');
  if (method === 'custom') {
    throw r.fail(
      methodNode,
      'method',
      "W&B's custom method takes its proposals from an external controller, which a sweep here does not have: expected grid, random or bayes",
    );
  }
  if (method !== 'grid' && method !== 'random' && method !== 'bayes') {
    throw r.fail(methodNode, 'method', `got ${JSON.stringify(method ?? null)}, expected grid, random or bayes`);
  }

  const metric = readMetric(r, top);
  const notes: string[] = [];
  const metricNode = top.get('metric')?.value;
  if (isMap(metricNode) && !metricNode.items.some((p) => isScalar(p.key) && p.key.value === 'goal')) {
    notes.push(`metric.goal is missing: W&B would minimize ${metric.name}; this sweep ${metric.goal}s it (write goal: to say which)`);
  }
  const constraints = readConstraints(r, top);
  const paramsNode = top.get('parameters')?.value ?? null;
  const dimensions = readDimensions(r, root, paramsNode);
  const earlyTerminate = readEarlyTerminate(r, top, metric);
  const trials = trialCount(r, root, top, method, paramsNode, dimensions);
  const seed = top.has('seed') ? number(r, top.get('seed')!.value, 'seed', { integer: true, min: 0, max: MAX_SEED }) : 0;
  const nameValue = scalarValue(top.get('name')?.value);
  return {
    file,
    name: typeof nameValue === 'string' ? nameValue : undefined,
    method,
    metric,
    constraints,
    trials,
    seed,
    dimensions,
    earlyTerminate,
    ignored,
    ...(notes.length ? { notes } : {}),
  };
}

/** The epochs a hyperband with these settings judges trials at: min_iter * eta^k for k = 0 .. s-1, up to `last`. */
export function hyperbandMilestones(minIter: number, eta: number, s: number, last = Infinity): number[] {
  const out: number[] = [];
  for (let k = 0; k < s; k++) {
    const m = Math.floor(minIter * eta ** k + 1e-9);
    if (m > last) break;
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

export function readSweepConfig(path: string): SweepConfig {
  checkConfigFile(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`${path}: config: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): expected a sweep YAML file`);
  }
  return parseSweepConfig(text, path);
}
