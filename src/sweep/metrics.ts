/**
 * A trial's figures by metric name (config.ts METRIC_NAMES): the trained model's validation accuracy and
 * loss, and the deployed int8 model's accuracy, RAM, flash, MACs and latency from its report.json; and
 * whether a trial meets the sweep's constraints.
 */
import type { Constraint, MetricName, SweepConfig } from './config.js';
import type { TrialResult } from './trial.js';

export type TrialFigures = Pick<TrialResult, 'metrics' | 'deployment'>;

export function metricValue(t: TrialFigures, name: MetricName): number | null {
  let v: number | null | undefined;
  switch (name) {
    case 'accuracy':
    case 'loss':
    case 'int8_accuracy':
      v = t.metrics?.[name];
      break;
    case 'ram_bytes':
    case 'flash_bytes':
    case 'macs':
    case 'latency_ms':
      v = t.deployment?.[name];
      break;
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** The constraints a trial misses (a figure it lacks misses its constraint): empty when it meets all. */
export function missedConstraints(constraints: readonly Constraint[], t: TrialFigures): string[] {
  const out: string[] = [];
  for (const c of constraints) {
    const v = metricValue(t, c.name);
    if (v === null) out.push(`${c.name} unknown`);
    else if (c.min !== undefined && v < c.min) out.push(`${c.name} ${v} < ${c.min}`);
    else if (c.max !== undefined && v > c.max) out.push(`${c.name} ${v} > ${c.max}`);
  }
  return out;
}

export function meetsConstraints(config: Pick<SweepConfig, 'constraints'>, t: TrialFigures): boolean {
  return missedConstraints(config.constraints ?? [], t).length === 0;
}

/** Whether a trial reached metric.target (W&B: the sweep then starts no further trial). */
export function reachesTarget(config: Pick<SweepConfig, 'metric' | 'constraints'>, t: TrialResult): boolean {
  const target = config.metric.target;
  if (target === undefined || t.status !== 'completed' || !meetsConstraints(config, t)) return false;
  const v = metricValue(t, config.metric.name);
  return v !== null && (config.metric.goal === 'maximize' ? v >= target : v <= target);
}
