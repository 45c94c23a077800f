/**
 * The configuration a run actually uses: CLI values, then facts from train_input.json, then defaults,
 * each value labelled with where it came from. Printed before training and written to
 * effective-config.json so "which value did the job use?" never needs guessing.
 */
import { userError } from '../errors.js';
import { SCHEMA, type Config, type ConfigKey } from './schema.js';
import type { ParsedArgs, ValueSource } from './parse.js';
import { formatValue } from './values.js';

/** The train_input.json facts that feed parameters (read by data/ei-directory). */
export interface TrainInputFacts {
  maxTrainingTimeSeconds?: number;
}

/**
 * Seconds kept back from Studio's time limit for what runs after training: ONNX/TFLite export, int8
 * calibration, verification of the exported files and the report. Studio kills the job at its limit,
 * and a job killed during export leaves no model at all; stopping training early only costs epochs.
 * 10% of the limit, at least 60 s, but never more than half the limit (so a short limit still trains).
 */
export function exportMarginSeconds(limitSeconds: number): number {
  return Math.min(Math.max(60, 0.1 * limitSeconds), 0.5 * limitSeconds);
}

/** Training seconds allowed under Studio's limit, after the export margin. */
export function trainingSecondsWithin(limitSeconds: number): number {
  return Math.max(1, Math.floor(limitSeconds - exportMarginSeconds(limitSeconds)));
}

/**
 * Applies train_input.json facts. Edge Impulse passes every parameter of parameters.json, defaults
 * included, so "the command line set it" says nothing about what the user chose: a fact from
 * train_input.json must never be overridden by a parameter's default. Returns a new ParsedArgs.
 *
 * maxTrainingTimeSeconds is Studio's hard limit for the whole job (Studio kills the job there, and a
 * job killed during export leaves no model): training gets that limit less the export margin, and
 * --max-training-seconds can only lower it (its 0 means "no limit of its own", not "no limit").
 * The source names whichever of the two the applied value came from.
 */
export function applyTrainInput(parsed: ParsedArgs, facts: TrainInputFacts, where = 'train_input.json'): ParsedArgs {
  const config: Config = { ...parsed.config };
  const sources: Record<ConfigKey, ValueSource> = { ...parsed.sources };
  const limit = facts.maxTrainingTimeSeconds;
  if (limit !== undefined) {
    if (typeof limit !== 'number' || !Number.isFinite(limit) || limit < 0) {
      throw userError(where, 'maxTrainingTimeSeconds', `got ${JSON.stringify(limit)}, expected a number of seconds >= 0`);
    }
    // 0 means "no limit" in Studio too.
    if (limit > 0) {
      // Under 2 s nothing fits: training would get the whole limit and Studio would kill the export.
      if (limit - exportMarginSeconds(limit) < 1) {
        throw userError(
          where,
          'maxTrainingTimeSeconds',
          `${limit} s leaves no time to train once ${exportMarginSeconds(limit)} s are kept for export and verification: expected at least 2 seconds`,
        );
      }
      const allowed = trainingSecondsWithin(limit);
      const own = config.maxTrainingSeconds;
      if (own <= 0 || allowed < own) {
        config.maxTrainingSeconds = allowed;
        sources.maxTrainingSeconds = 'train_input.json';
      }
    }
  }
  return { config, sources, unknown: [...parsed.unknown] };
}

/** Aligned lines `  <param>  <value>  (<source>)`, one per parameter, in schema order. */
export function renderEffectiveConfig(config: Config, sources: Record<ConfigKey, ValueSource>): string[] {
  const rows = SCHEMA.map((spec) => {
    const value = config[spec.key];
    return [`--${spec.param}`, value === undefined ? '(not set)' : formatValue(spec, value), sources[spec.key]] as const;
  });
  const paramWidth = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  return ['Effective configuration:', ...rows.map(([param, value, source]) => `  ${param.padEnd(paramWidth)}  ${value.padEnd(valueWidth)}  (${source})`)];
}

export type EffectiveConfigJson = Record<string, { value: unknown; source: ValueSource }>;

/** `{ "<param>": { "value": ..., "source": ... } }` for effective-config.json (unset values are null). */
export function effectiveConfigJson(config: Config, sources: Record<ConfigKey, ValueSource>): EffectiveConfigJson {
  const out: EffectiveConfigJson = {};
  for (const spec of SCHEMA) {
    const value = config[spec.key];
    out[spec.param] = { value: value === undefined ? null : value, source: sources[spec.key] };
  }
  return out;
}
