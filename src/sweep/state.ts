/**
 * O/sweep.json: the sweep's state and results, rewritten atomically after every trial (docs/sweeps.md).
 * A result is recorded by trial id: recording a trial a second time (a retried job whose first run
 * also finished) replaces nothing and counts nothing twice. A rerun of the same sweep command reads it
 * and continues: finished trials stay, pending ones are run (or, with a queue, awaited) again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Dimension, Params, SweepConfig } from './config.js';
import { meetsConstraints, metricValue, missedConstraints } from './metrics.js';
import { score } from './search.js';
import { checkSweepFile } from './sweep-file.js';
import type { TrialResult } from './trial.js';

export const SWEEP_SCHEMA = 1;

export interface SweepFile {
  schema: number;
  /** Names this sweep's jobs in a shared queue; derived from the out directory and the config. */
  sweep_id: string;
  name: string | null;
  config_file: string;
  /** sha256 of the config's meaning (method, metric, parameters, ...) and the data directory. */
  config_hash: string;
  method: SweepConfig['method'];
  metric: SweepConfig['metric'];
  /** The config's constraints (absent in sweeps written before they existed). */
  constraints?: SweepConfig['constraints'];
  trials_planned: number;
  data_directory: string;
  queue: string | null;
  started: string;
  updated: string;
  /** Finished trials, in the order they finished. */
  trials: TrialResult[];
  /** Proposed trials not finished yet (run again, or awaited in the queue, on resume). */
  pending: Array<{ id: string; params: Params }>;
  /** The best completed trial meeting the constraints; `dendrites`: what dendrites did in it (null: unknown). */
  best: (Pick<TrialResult, 'id' | 'params' | 'metrics' | 'deployment'> & { value: number; dendrites?: TrialResult['dendrites'] }) | null;
}

export function trialId(index: number): string {
  return `t${String(index + 1).padStart(4, '0')}`;
}

function describeDimension(d: Dimension): unknown {
  const { spec: _spec, ...rest } = d;
  return rest;
}

export function configHash(config: SweepConfig, dataDirectory: string): string {
  const meaning = {
    method: config.method,
    metric: config.metric,
    ...(config.constraints?.length ? { constraints: config.constraints } : {}),
    trials: config.trials,
    seed: config.seed,
    dimensions: config.dimensions.map(describeDimension),
    earlyTerminate: config.earlyTerminate,
    dataDirectory,
  };
  return createHash('sha256').update(JSON.stringify(meaning)).digest('hex');
}

export class SweepState {
  constructor(
    readonly dir: string,
    readonly file: SweepFile,
    private readonly config: SweepConfig,
  ) {}

  static path(dir: string): string {
    return join(dir, 'sweep.json');
  }

  /** Reads O/sweep.json when present (it must be the same sweep), else starts a new one. */
  static open(dir: string, config: SweepConfig, dataDirectory: string, queue: string | null): SweepState {
    const hash = configHash(config, dataDirectory);
    const path = SweepState.path(dir);
    if (existsSync(path)) {
      let file: SweepFile;
      try {
        file = checkSweepFile(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
      } catch (err) {
        if (err instanceof UserError) throw err;
        throw new UserError(
          `${path}: sweep.json: cannot be read (${(err as Error).message}): expected the state of an earlier sweep, or an empty --out-directory`,
        );
      }
      if (file.config_hash !== hash) {
        throw new UserError(
          `${path}: config_hash: this out directory holds another sweep (${file.config_file}, other parameters or data): expected the same config and data directory to resume, or another --out-directory`,
        );
      }
      file.queue = queue;
      return new SweepState(dir, file, config);
    }
    const now = new Date().toISOString();
    const sweepId = `s${createHash('sha256').update(`${dir}\n${hash}`).digest('hex').slice(0, 12)}`;
    return new SweepState(
      dir,
      {
        schema: SWEEP_SCHEMA,
        sweep_id: sweepId,
        name: config.name ?? null,
        config_file: config.file,
        config_hash: hash,
        method: config.method,
        metric: config.metric,
        constraints: config.constraints ?? [],
        trials_planned: config.trials,
        data_directory: dataDirectory,
        queue,
        started: now,
        updated: now,
        trials: [],
        pending: [],
        best: null,
      },
      config,
    );
  }

  /** Trials proposed so far (finished or pending): the next trial's index. */
  get proposed(): number {
    return this.file.trials.length + this.file.pending.length;
  }

  isFinished(id: string): boolean {
    return this.file.trials.some((t) => t.id === id);
  }

  addPending(id: string, params: Params): void {
    if (!this.file.pending.some((p) => p.id === id) && !this.isFinished(id)) this.file.pending.push({ id, params });
  }

  /** Records a finished trial once; returns false when it was recorded before. */
  record(result: TrialResult): boolean {
    if (this.isFinished(result.id)) return false;
    this.file.pending = this.file.pending.filter((p) => p.id !== result.id);
    const missed = result.status === 'completed' ? missedConstraints(this.config.constraints ?? [], result) : [];
    this.file.trials.push(missed.length ? { ...result, constraints_missed: missed } : result);
    this.file.best = bestOf(this.config, this.file.trials);
    return true;
  }

  write(): void {
    this.file.updated = new Date().toISOString();
    writeFileAtomic(SweepState.path(this.dir), `${JSON.stringify(this.file, null, 2)}\n`);
  }
}

/**
 * The completed trial with the best metric among those that meet the constraints (ties: the other
 * validation figure, then the earlier trial id).
 */
export function bestOf(
  config: Pick<SweepConfig, 'metric'> & Partial<Pick<SweepConfig, 'constraints'>>,
  trials: readonly TrialResult[],
): SweepFile['best'] {
  let best: SweepFile['best'] = null;
  for (const t of [...trials].sort((a, b) => a.id.localeCompare(b.id))) {
    if (t.status !== 'completed') continue;
    if (!meetsConstraints({ constraints: config.constraints ?? [] }, t)) continue;
    const s = score(config, t);
    if (s === null) continue;
    const value = metricValue(t, config.metric.name)!;
    const bs = best === null ? null : score(config, best)!;
    // Equal metric: the other validation figure decides (accuracy: lower loss; otherwise higher accuracy).
    const other = (m: TrialResult['metrics']) => (config.metric.name === 'accuracy' ? -(m?.loss ?? Infinity) : (m?.accuracy ?? -Infinity));
    if (best === null || s > bs! || (s === bs && other(t.metrics) > other(best.metrics)))
      best = { id: t.id, params: t.params, value, metrics: t.metrics, deployment: t.deployment, dendrites: t.dendrites ?? null };
  }
  return best;
}
