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

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

export const NUMERIC_DISTRIBUTIONS = ['uniform', 'int_uniform', 'q_uniform', 'log_uniform_values', 'q_log_uniform_values', 'log_uniform'] as const;
export type NumericDistribution = (typeof NUMERIC_DISTRIBUTIONS)[number];
const DISTRIBUTIONS = ['constant', 'categorical', ...NUMERIC_DISTRIBUTIONS] as const;

interface DimensionCommon {
  /** The block parameter's flag name (kebab-case), e.g. `learning-rate`. */
  param: string;
  spec: ParamSpec;
}
export type Dimension =
  | (DimensionCommon & { kind: 'fixed'; value: ParamValue })
  | (DimensionCommon & { kind: 'choice'; values: ParamValue[] })
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
    });

export type MetricName = 'accuracy' | 'loss';
export type Goal = 'maximize' | 'minimize';

export interface Hyperband {
  type: 'hyperband';
  minIter: number;
  eta: number;
  /** Epochs at which a trial is judged: min_iter * eta^k, k = 0 .. s-1. */
  milestones: number[];
}

export interface SweepConfig {
  file: string;
  name: string | undefined;
  method: 'grid' | 'random' | 'bayes';
  metric: { name: MetricName; goal: Goal };
  /** Trials to run (grid: its size unless run_cap is smaller). */
  trials: number;
  /** Seed of the search (random draws, bayes proposals); not a training parameter. */
  seed: number;
  dimensions: Dimension[];
  earlyTerminate: Hyperband | null;
  /** Keys of W&B's format that have no meaning here (program, command, project, entity): ignored. */
  ignored: string[];
}

const METRIC_ALIASES: Record<string, MetricName> = {
  accuracy: 'accuracy',
  val_acc: 'accuracy',
  'validation.accuracy': 'accuracy',
  loss: 'loss',
  val_loss: 'loss',
  'validation.loss': 'loss',
};
const TOP_KEYS = ['method', 'metric', 'parameters', 'early_terminate', 'run_cap', 'name', 'description', 'seed'];
const IGNORED_KEYS = ['program', 'command', 'project', 'entity'];

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

function dimension(r: Reader, param: string, spec: ParamSpec, node: YamlNode | null): Dimension {
  const at = `parameters.${param}`;
  if (!isMap(node)) throw r.fail(node, at, 'expected a mapping with value, values or distribution (+ min/max)');
  const fields = new Map(entries(node).map((e) => [e.key, e]));
  for (const e of fields.values()) {
    if (!['value', 'values', 'distribution', 'min', 'max', 'q', 'probabilities'].includes(e.key)) {
      throw r.fail(e.keyNode, `${at}.${e.key}`, 'unknown key: expected value, values, distribution, min, max or q');
    }
  }
  const distNode = fields.get('distribution')?.value ?? null;
  const distribution = fields.has('distribution') ? scalarValue(distNode) : undefined;
  if (distribution !== undefined && !(DISTRIBUTIONS as readonly unknown[]).includes(distribution)) {
    throw r.fail(distNode, `${at}.distribution`, `got ${JSON.stringify(distribution)}, expected one of ${DISTRIBUTIONS.join('|')}`);
  }
  if (fields.has('value')) {
    return { param, spec, kind: 'fixed', value: paramValue(r, spec, fields.get('value')!.value, `${at}.value`) };
  }
  if (fields.has('values')) {
    const list = fields.get('values')!.value;
    if (!isSeq(list) || list.items.length === 0) throw r.fail(list, `${at}.values`, 'expected a non-empty list');
    if (list.items.length > MAX_VALUES) throw r.fail(list, `${at}.values`, `${list.items.length} values, expected at most ${MAX_VALUES}`);
    const values = list.items.map((item, i) => paramValue(r, spec, item as YamlNode, `${at}.values[${i}]`));
    return { param, spec, kind: 'choice', values };
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
  if (dist === ('constant' as string) || dist === ('categorical' as string)) {
    throw r.fail(distNode, `${at}.distribution`, `${dist} takes value / values, not min and max`);
  }
  let q: number | undefined;
  if (dist.startsWith('q_')) q = fields.has('q') ? number(r, fields.get('q')!.value, `${at}.q`) : 1;
  if (q !== undefined && !(q > 0)) throw r.fail(fields.get('q')?.value, `${at}.q`, `got ${q}, expected a number > 0`);
  // A step beyond the range rounds every draw outside it: every trial would fail.
  const span = dist === 'q_log_uniform_values' ? max : max - min;
  if (q !== undefined && q > span) {
    const given = fields.has('q') ? `got ${q}` : `got the default ${q}`;
    throw r.fail(
      fields.get('q')?.value ?? distNode,
      `${at}.q`,
      `${given}, expected a step <= ${dist === 'q_log_uniform_values' ? 'max' : 'max - min'} (${span})`,
    );
  }
  if (dist === 'int_uniform') {
    if (!Number.isInteger(min) || !Number.isInteger(max)) throw r.fail(minNode, at, 'int_uniform needs integer min and max');
    q = 1;
  }
  const log = dist.includes('log_uniform');
  let lo = min;
  let hi = max;
  if (dist === 'log_uniform') {
    lo = Math.exp(min);
    hi = Math.exp(max);
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

type TopLevel = Map<string, ReturnType<typeof entries>[number]>;

/** `metric`: name (an alias of accuracy or loss) and goal; accuracy, maximised, when absent. */
function readMetric(r: Reader, top: TopLevel): SweepConfig['metric'] {
  if (!top.has('metric')) return { name: 'accuracy', goal: 'maximize' };
  const m = top.get('metric')!.value;
  if (!isMap(m)) throw r.fail(m, 'metric', 'expected a mapping with name and goal');
  const mf = new Map(entries(m).map((e) => [e.key, e]));
  for (const e of mf.values()) {
    if (!['name', 'goal'].includes(e.key)) throw r.fail(e.keyNode, `metric.${e.key}`, 'unknown key: expected name, goal');
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
  const goal = mf.has('goal') ? scalarValue(goalNode) : name === 'accuracy' ? 'maximize' : 'minimize';
  if (goal !== 'maximize' && goal !== 'minimize') throw r.fail(goalNode, 'metric.goal', `got ${JSON.stringify(goal)}, expected maximize or minimize`);
  return { name, goal };
}

/** `parameters`: one search dimension per block parameter, each named once. */
function readDimensions(r: Reader, root: YamlNode, paramsNode: YamlNode | null): Dimension[] {
  if (!isMap(paramsNode) || paramsNode.items.length === 0) {
    throw r.fail(paramsNode ?? root, 'parameters', 'expected a mapping of block parameters (e.g. learning-rate: {min: 0.001, max: 0.01})');
  }
  const dimensions: Dimension[] = [];
  for (const e of entries(paramsNode)) {
    const spec = blockParameter(e.key);
    if (!spec) {
      const cli = SCHEMA.find((s) => s.param === e.key.replace(/_/g, '-'));
      throw r.fail(
        e.keyNode,
        `parameters.${e.key}`,
        cli
          ? 'not a block parameter (the sweep sets the command-line options itself)'
          : `unknown parameter: expected a block parameter (${BLOCK_PARAMETERS.map((s) => s.param).join(', ')})`,
      );
    }
    if (dimensions.some((d) => d.param === spec.param)) throw r.fail(e.keyNode, `parameters.${e.key}`, `${spec.param} is given twice`);
    dimensions.push(dimension(r, spec.param, spec, e.value));
  }

  return dimensions;
}

/** `early_terminate`: hyperband's milestones from min_iter, eta and s (or max_iter); null when absent. */
function readEarlyTerminate(r: Reader, top: TopLevel): Hyperband | null {
  if (!top.has('early_terminate')) return null;
  const et = top.get('early_terminate')!.value;
  if (!isMap(et)) throw r.fail(et, 'early_terminate', 'expected a mapping: {type: hyperband, min_iter, eta, s}');
  const ef = new Map(entries(et).map((e) => [e.key, e]));
  for (const e of ef.values()) {
    if (!['type', 'min_iter', 'max_iter', 'eta', 's'].includes(e.key)) {
      throw r.fail(e.keyNode, `early_terminate.${e.key}`, 'unknown key: expected type, min_iter, max_iter, eta, s');
    }
  }
  const typeNode = ef.get('type')?.value ?? null;
  if (scalarValue(typeNode) !== 'hyperband')
    throw r.fail(typeNode ?? et, 'early_terminate.type', `got ${JSON.stringify(scalarValue(typeNode) ?? null)}, expected hyperband`);
  if (!ef.has('min_iter')) throw r.fail(et, 'early_terminate.min_iter', 'missing: expected the first epoch at which trials are judged');
  const minIter = number(r, ef.get('min_iter')!.value, 'early_terminate.min_iter', { integer: true, min: 1, max: MAX_ITER });
  const eta = ef.has('eta') ? number(r, ef.get('eta')!.value, 'early_terminate.eta', { min: 1.01 }) : 3;
  let s: number;
  if (ef.has('s')) s = number(r, ef.get('s')!.value, 'early_terminate.s', { integer: true, min: 1, max: MAX_HYPERBAND_S });
  else if (ef.has('max_iter')) {
    const maxIter = number(r, ef.get('max_iter')!.value, 'early_terminate.max_iter', { integer: true, min: minIter, max: MAX_ITER });
    s = Math.max(1, Math.floor(Math.log(maxIter / minIter) / Math.log(eta) + 1e-9) + 1);
  } else throw r.fail(et, 'early_terminate', 'expected s (brackets) or max_iter');
  return { type: 'hyperband', minIter, eta, milestones: hyperbandMilestones(minIter, eta, s) };
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
  if (method !== 'grid' && method !== 'random' && method !== 'bayes') {
    throw r.fail(methodNode, 'method', `got ${JSON.stringify(method ?? null)}, expected grid, random or bayes`);
  }

  const metric = readMetric(r, top);
  const paramsNode = top.get('parameters')?.value ?? null;
  const dimensions = readDimensions(r, root, paramsNode);
  const earlyTerminate = readEarlyTerminate(r, top);
  const trials = trialCount(r, root, top, method, paramsNode, dimensions);
  const seed = top.has('seed') ? number(r, top.get('seed')!.value, 'seed', { integer: true, min: 0, max: MAX_SEED }) : 0;
  const nameValue = scalarValue(top.get('name')?.value);
  return {
    file,
    name: typeof nameValue === 'string' ? nameValue : undefined,
    method,
    metric,
    trials,
    seed,
    dimensions,
    earlyTerminate,
    ignored,
  };
}

/** The epochs a hyperband with these settings judges trials at: min_iter * eta^k for k = 0 .. s-1. */
export function hyperbandMilestones(minIter: number, eta: number, s: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < s; k++) {
    const m = Math.round(minIter * eta ** k);
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
