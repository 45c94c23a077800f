/**
 * Runs an experiment's plan on the sweep's backends (src/sweep/backend.ts): each planned run is a trial
 * of kind 'experiment-run', a `dendritic experiment-run` child process in a local slot (--jobs N) or on a
 * `dendritic worker` of a queue (--queue). Every finished run is recorded by run id in
 * STATE_DIR/state.json (atomically, at once), so an experiment rerun with the same command and out
 * directory runs only the runs not recorded yet. Every run is a pure function of (data, config) and the
 * kernels are deterministic, so results do not depend on where or in what order runs ran; they come back
 * in plan order.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { Backend } from '../sweep/backend.js';
import type { TrialSpec } from '../sweep/trial.js';
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
  onRun?(r: RunResult, index: number, done: number): void;
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

/** Runs the plan's unrecorded runs on a backend; returns every run's result, in plan order. */
export async function runPlan(opts: PlanRunnerOptions): Promise<RunResult[]> {
  const { plan, stateDirectory: dir } = opts;
  mkdirSync(dir, { recursive: true });
  const data = { dataDirectory: opts.dataDirectory, holdoutDirectory: opts.holdoutDirectory ?? null, dataSeed: opts.dataSeed };
  const hash = createHash('sha256').update(JSON.stringify({ data, plan })).digest('hex');
  const statePath = join(dir, 'state.json');
  const state = openState(statePath, hash);
  const todo = plan.map((_, i) => i).filter((i) => !(runId(i) in state.runs));
  let done = plan.length - todo.length;
  if (done > 0) opts.log(`resuming: ${done} of ${plan.length} runs already recorded in ${statePath}`);
  const spec = (i: number): TrialSpec => {
    const out = join(dir, runId(i));
    mkdirSync(out, { recursive: true });
    const run: ExperimentRunSpec = { ...data, variant: plan[i]!.variant, config: plan[i]!.config };
    writeFileAtomic(join(out, 'spec.json'), `${JSON.stringify(run, null, 1)}\n`);
    return { id: runId(i), kind: 'experiment-run', params: {}, dataDirectory: opts.dataDirectory, outDirectory: out, sweepDirectory: dir, pruning: null };
  };
  const backend = await opts.makeBackend(`e${createHash('sha256').update(`${dir}\n${hash}`).digest('hex').slice(0, 12)}`);
  try {
    let next = 0;
    for (;;) {
      while (next < todo.length && backend.inFlight() < opts.window) await backend.submit(spec(todo[next++]!));
      if (backend.inFlight() === 0) break;
      const t = await backend.next();
      const index = Number(t.id.slice(1)) - 1;
      if (t.status !== 'completed')
        throw new Error(`experiment run ${index + 1} (${t.id}) failed: ${t.error ?? t.status}; its log: ${join(dir, t.id)}.log`);
      const r = JSON.parse(readFileSync(join(dir, t.id, 'run.json'), 'utf8')) as RunResult;
      state.runs[t.id] = r;
      writeFileAtomic(statePath, `${JSON.stringify(state, null, 1)}\n`);
      await backend.acknowledge(t.id);
      opts.onRun?.(r, index, ++done);
    }
  } catch (err) {
    backend.abort();
    throw err;
  } finally {
    await backend.close();
  }
  return plan.map((_, i) => state.runs[runId(i)]!);
}
