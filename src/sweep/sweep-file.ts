/**
 * O/sweep.json as read back (a resume, `sweep best O`): checked field by field, so a file someone edited
 * or a disk corrupted is one clear line naming the file and the field, never a TypeError's stack.
 */
import { UserError } from '../errors.js';
import { parseValue } from '../params/values.js';
import { blockParameter, METRIC_NAMES, type Params } from './config.js';
import type { SweepFile } from './state.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const shown = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
};

class Checker {
  constructor(readonly path: string) {}
  fail(field: string, v: unknown, expected: string): UserError {
    return new UserError(`${this.path}: ${field}: got ${shown(v)}, expected ${expected}`);
  }
  object(v: unknown, field: string): Json {
    if (!isObject(v)) throw this.fail(field, v, 'an object');
    return v;
  }
  string(v: unknown, field: string, pattern?: RegExp): string {
    if (typeof v !== 'string' || (pattern && !pattern.test(v))) throw this.fail(field, v, pattern ? `a string like ${pattern.source}` : 'a string');
    return v;
  }
  numberOrNull(v: unknown, field: string): number | null {
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) throw this.fail(field, v, 'a number or null');
    return v;
  }
  array(v: unknown, field: string): unknown[] {
    if (!Array.isArray(v)) throw this.fail(field, v, 'a list');
    return v;
  }
  /** A trial's parameters: block parameters with values the command line accepts. */
  params(v: unknown, field: string): Params {
    const o = this.object(v, field);
    for (const [key, value] of Object.entries(o)) {
      const spec = blockParameter(key);
      if (!spec || spec.param !== key) throw this.fail(`${field}.${key}`, key, 'a block parameter (docs/parameters.md)');
      if (!(typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean'))
        throw this.fail(`${field}.${key}`, value, 'a number, string or boolean');
      try {
        parseValue(spec, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        throw this.fail(`${field}.${key}`, value, err.message.replace(/^.*expected /, ''));
      }
    }
    return o as Params;
  }
  metrics(v: unknown, field: string): void {
    if (v === null) return;
    const m = this.object(v, field);
    this.numberOrNull(m.accuracy ?? null, `${field}.accuracy`);
    this.numberOrNull(m.loss ?? null, `${field}.loss`);
    this.numberOrNull(m.int8_accuracy ?? null, `${field}.int8_accuracy`);
  }
  /** What dendrites did in a trial (absent in sweeps written before it was recorded). */
  dendrites(v: unknown, field: string): void {
    if (v === null || v === undefined) return;
    const d = this.object(v, field);
    if (typeof d.enabled !== 'boolean') throw this.fail(`${field}.enabled`, d.enabled, 'true or false');
    for (const k of ['tried', 'kept', 'shipped_sets']) {
      if (!Number.isInteger(d[k]) || (d[k] as number) < 0) throw this.fail(`${field}.${k}`, d[k], 'an integer >= 0');
    }
    if (d.shipped !== 'dendritic' && d.shipped !== 'plain') throw this.fail(`${field}.shipped`, d.shipped, 'dendritic or plain');
  }
  deployment(v: unknown, field: string): void {
    if (v === null || v === undefined) return;
    const d = this.object(v, field);
    for (const k of ['ram_bytes', 'flash_bytes', 'macs']) {
      if (typeof d[k] !== 'number' || !Number.isFinite(d[k])) throw this.fail(`${field}.${k}`, d[k], 'a number');
    }
    this.numberOrNull(d.latency_ms ?? null, `${field}.latency_ms`);
  }
}

const TRIAL_ID = /^t\d{4,6}$/;

function checkMetric(c: Checker, v: unknown): void {
  const m = c.object(v, 'metric');
  if (!(METRIC_NAMES as readonly unknown[]).includes(m.name)) throw c.fail('metric.name', m.name, METRIC_NAMES.join(', '));
  if (m.goal !== 'maximize' && m.goal !== 'minimize') throw c.fail('metric.goal', m.goal, 'maximize or minimize');
  if (m.target !== undefined && (typeof m.target !== 'number' || !Number.isFinite(m.target))) throw c.fail('metric.target', m.target, 'a number');
}

/** `constraints` (absent in sweeps written before they existed): [{name, min?, max?}]. */
function checkConstraints(c: Checker, v: unknown): void {
  if (v === undefined) return;
  c.array(v, 'constraints').forEach((x, i) => {
    const o = c.object(x, `constraints[${i}]`);
    if (!(METRIC_NAMES as readonly unknown[]).includes(o.name)) throw c.fail(`constraints[${i}].name`, o.name, METRIC_NAMES.join(', '));
    for (const k of ['min', 'max']) {
      if (o[k] !== undefined && (typeof o[k] !== 'number' || !Number.isFinite(o[k]))) throw c.fail(`constraints[${i}].${k}`, o[k], 'a number');
    }
  });
}

/** The best trial's part of sweep.json (enough for `sweep best`). */
function checkBest(c: Checker, v: unknown): SweepFile['best'] {
  if (v === null) return null;
  const b = c.object(v, 'best');
  c.string(b.id, 'best.id', TRIAL_ID);
  c.params(b.params, 'best.params');
  if (typeof b.value !== 'number' || !Number.isFinite(b.value)) throw c.fail('best.value', b.value, 'a number');
  c.metrics(b.metrics ?? null, 'best.metrics');
  c.deployment(b.deployment ?? null, 'best.deployment');
  c.dendrites(b.dendrites ?? null, 'best.dendrites');
  return b as unknown as SweepFile['best'];
}

/** sweep.json as `sweep best` needs it: an object whose best (if any) is well-formed. */
export function checkSweepFileForBest(value: unknown, path: string): SweepFile {
  const c = new Checker(path);
  const f = c.object(value, 'sweep.json');
  if (!('best' in f)) throw c.fail('best', undefined, 'the best trial or null');
  checkBest(c, f.best);
  checkMetric(c, f.metric);
  return f as unknown as SweepFile;
}

/** sweep.json as a resume needs it: every field the coordinator reads, checked. */
export function checkSweepFile(value: unknown, path: string): SweepFile {
  const c = new Checker(path);
  const f = c.object(value, 'sweep.json');
  if (f.schema !== 1) throw c.fail('schema', f.schema, '1');
  c.string(f.sweep_id, 'sweep_id', /^s[0-9a-f]{12}$/);
  c.string(f.config_hash, 'config_hash', /^[0-9a-f]{64}$/);
  c.string(f.config_file, 'config_file');
  c.string(f.data_directory, 'data_directory');
  c.string(f.started, 'started');
  c.string(f.updated, 'updated');
  checkMetric(c, f.metric);
  checkConstraints(c, f.constraints);
  if (!['grid', 'random', 'bayes'].includes(f.method as string)) throw c.fail('method', f.method, 'grid, random or bayes');
  if (!Number.isInteger(f.trials_planned)) throw c.fail('trials_planned', f.trials_planned, 'an integer');
  if (f.name !== null && f.name !== undefined) c.string(f.name, 'name');
  c.array(f.trials, 'trials').forEach((t, i) => {
    const at = `trials[${i}]`;
    const o = c.object(t, at);
    c.string(o.id, `${at}.id`, TRIAL_ID);
    c.params(o.params, `${at}.params`);
    if (!['completed', 'failed', 'pruned'].includes(o.status as string)) throw c.fail(`${at}.status`, o.status, 'completed, failed or pruned');
    c.metrics(o.metrics ?? null, `${at}.metrics`);
    c.deployment(o.deployment ?? null, `${at}.deployment`);
    c.string(o.out, `${at}.out`);
    c.string(o.worker, `${at}.worker`);
    if (typeof o.seconds !== 'number' || !Number.isFinite(o.seconds)) throw c.fail(`${at}.seconds`, o.seconds, 'a number');
    c.numberOrNull(o.epochs ?? null, `${at}.epochs`);
    if (o.error !== undefined) c.string(o.error, `${at}.error`);
    c.dendrites(o.dendrites ?? null, `${at}.dendrites`);
    if (o.constraints_missed !== undefined)
      c.array(o.constraints_missed, `${at}.constraints_missed`).forEach((m, j) => c.string(m, `${at}.constraints_missed[${j}]`));
  });
  c.array(f.pending, 'pending').forEach((p, i) => {
    const o = c.object(p, `pending[${i}]`);
    c.string(o.id, `pending[${i}].id`, TRIAL_ID);
    c.params(o.params, `pending[${i}].params`);
  });
  checkBest(c, f.best ?? null);
  return f as unknown as SweepFile;
}
