/**
 * Runs an experiment's plan on the sweep's backends (src/sweep/backend.ts): each planned run is a trial
 * of kind 'experiment-run', a `dendritic experiment-run` child process in a local slot (--jobs N) or on a
 * `dendritic worker` of a queue (--queue). Every finished run is recorded by run id in
 * STATE_DIR/state.json (atomically, at once), so an experiment rerun with the same command and out
 * directory runs only the runs not recorded yet. Every run is a pure function of (data, config) and the
 * kernels are deterministic, so results do not depend on where or in what order runs ran; they come back
 * in plan order. The loop and its SIGINT/SIGTERM handling are the sweep's (src/sweep/drive.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Backend } from '../sweep/backend.js';
import { driveTrials, StopSignals } from '../sweep/drive.js';
import type { TrialResult, TrialSpec } from '../sweep/trial.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { ExperimentRunSpec, PlanEntry, RunResult } from './run.js';

export const EXPERIMENT_STATE_SCHEMA = 1;

export interface ExperimentStateFile {
  schema: number;
  /** sha256 of the plan and the data: a rerun resumes only the same experiment. */
  plan_hash: string;
  /** Finished runs by run id (r0001 = the plan's first run). */
  runs: Record<string, RunResult>;
}

export interface PlanRunnerOptions {
  plan: readonly PlanEntry[];
  dataDirectory: string;
  holdoutDirectory: string | undefined;
  dataSeed: number;
  /** Where state.json and each run's directory (spec.json, run.json, its log) live. */
  stateDirectory: string;
  /** Runs submitted at once: local slots, or with a queue the runs kept queued and running. */
  window: number;
  makeBackend(id: string): Promise<Backend>;
  log(line: string): void;
  /** What a SIGINT/SIGTERM does to the runs in flight, for the log: the backend decides it (abort()). */
  onStopInFlight: string;
  /** After each run is recorded in state.json: `progress` holds every recorded run so far. */
  onRun?(r: RunResult, index: number, progress: PlanProgress): void;
}

/** The runs recorded so far, in plan order, and the ones that failed in this invocation. */
export interface PlanProgress {
  ids: string[];
  runs: RunResult[];
  planned: number;
  failed: FailedRun[];
}

/** A run that ended without a result: left out of the table, tried again by a rerun. */
export interface FailedRun {
  id: string;
  /** 1-based position in the plan. */
  run: number;
  error: string;
  log: string;
}

export interface PlanOutcome extends PlanProgress {
  /** The signal (SIGINT/SIGTERM) that stopped the experiment before every run was recorded, or null. */
  interrupted: NodeJS.Signals | null;
}

export function runId(index: number): string {
  return `r${String(index + 1).padStart(4, '0')}`;
}

function openState(path: string, hash: string): ExperimentStateFile {
  if (!existsSync(path)) return { schema: EXPERIMENT_STATE_SCHEMA, plan_hash: hash, runs: {} };
  let file: ExperimentStateFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as ExperimentStateFile;
  } catch (err) {
    throw new UserError(
      `${path}: state.json: cannot be read (${(err as Error).message}): expected the state of an earlier experiment, or another --out-directory`,
    );
  }
  if (file.plan_hash !== hash)
    throw new UserError(
      `${path}: plan_hash: this out directory holds another experiment (other runs, settings or data): expected the same command to resume, or another --out-directory`,
    );
  return file;
}

function progressOf(plan: readonly PlanEntry[], state: ExperimentStateFile, failed: readonly FailedRun[]): PlanProgress {
  const ids = plan.map((_, i) => runId(i)).filter((id) => id in state.runs);
  return { ids, runs: ids.map((id) => state.runs[id]!), planned: plan.length, failed: [...failed] };
}

/**
 * Runs the plan's unrecorded runs on a backend. SIGINT/SIGTERM stop it (drive.ts): no run is handed out
 * after, local runs in flight are killed, queued ones stay queued for a rerun to collect.
 */
export async function runPlan(opts: PlanRunnerOptions): Promise<PlanOutcome> {
  const { plan, stateDirectory: dir } = opts;
  mkdirSync(dir, { recursive: true });
  const data = { dataDirectory: opts.dataDirectory, holdoutDirectory: opts.holdoutDirectory ?? null, dataSeed: opts.dataSeed };
  const hash = createHash('sha256').update(JSON.stringify({ data, plan })).digest('hex');
  const statePath = join(dir, 'state.json');
  const state = openState(statePath, hash);
  const todo = plan.map((_, i) => i).filter((i) => !(runId(i) in state.runs));
  const done = plan.length - todo.length;
  if (done > 0) opts.log(`resuming: ${done} of ${plan.length} runs already recorded in ${statePath}`);
  const spec = (i: number): TrialSpec => {
    const out = join(dir, runId(i));
    mkdirSync(out, { recursive: true });
    const run: ExperimentRunSpec = { ...data, variant: plan[i]!.variant, config: plan[i]!.config };
    writeFileAtomic(join(out, 'spec.json'), `${JSON.stringify(run, null, 1)}\n`);
    return { id: runId(i), kind: 'experiment-run', params: {}, dataDirectory: opts.dataDirectory, outDirectory: out, sweepDirectory: dir, pruning: null };
  };
  // A failed run (a diverging loss, a killed process) does not end hours of other runs: it is left out,
  // named, and not recorded, so a rerun tries it again.
  const failed: FailedRun[] = [];
  const record = (t: TrialResult) => {
    const index = Number(t.id.slice(1)) - 1;
    if (t.status !== 'completed') {
      const f: FailedRun = { id: t.id, run: index + 1, error: t.error ?? t.status, log: `${join(dir, t.id)}.log` };
      failed.push(f);
      opts.log(`run ${f.run} (${f.id}) failed: ${f.error}; its log: ${f.log}; the experiment goes on without it (a rerun tries it again)`);
      return;
    }
    const r = JSON.parse(readFileSync(join(dir, t.id, 'run.json'), 'utf8')) as RunResult;
    state.runs[t.id] = r;
    writeFileAtomic(statePath, `${JSON.stringify(state, null, 1)}\n`);
    opts.onRun?.(r, index, progressOf(plan, state, failed));
  };
  let backend: Backend | undefined;
  const stop = new StopSignals((signal) => {
    opts.log(`${signal}: stopping the experiment: no further run is started; ${opts.onStopInFlight}`);
    backend?.abort();
  });
  try {
    backend = await opts.makeBackend(`e${createHash('sha256').update(`${dir}\n${hash}`).digest('hex').slice(0, 12)}`);
    let next = 0;
    const propose = () => (next < todo.length ? spec(todo[next++]!) : undefined);
    const interrupted = await driveTrials({ backend, window: opts.window, propose, record, stop });
    return { ...progressOf(plan, state, failed), interrupted };
  } catch (err) {
    backend?.abort();
    throw err;
  } finally {
    stop.dispose();
    await backend?.close();
  }
}
