/**
 * `dendritic experiment`: baseline (switch-mode none) against dendritic training at several widths and
 * seeds, every run scored on a hold-out split that neither switching nor best-weight restore saw.
 * Writes experiment.md (the table) and experiment.json (table rows + every run) to --out-directory.
 * The runs go through the sweep's backends (src/experiment/runner.ts): local processes (--jobs) or a
 * Redis queue (--queue); with --out-directory, OUT/experiment-runs/ holds what a rerun resumes from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { loadEiDirectory, loadEiTestSplit } from '../data/ei-directory.js';
import { Rng } from '../engine/rng.js';
import type { LabelledSet } from '../engine/tensor.js';
import { OutTransaction } from '../util/out-transaction.js';
import { parseExperimentArgs } from '../experiment/args.js';
import { planRuns, type ExperimentData, type RunResult } from '../experiment/run.js';
import { runPlan, type PlanOutcome, type PlanProgress } from '../experiment/runner.js';
import type { Backend } from '../sweep/backend.js';
import { signalExitCode } from '../sweep/drive.js';
import { LocalBackend } from '../sweep/local.js';
import { redactUrl } from '../sweep/redis-url.js';
import { plainFront, renderMarkdown, summarise, type ExperimentRow } from '../experiment/table.js';

export interface ExperimentOutcome {
  exitCode: number;
  rows: ExperimentRow[];
  runs: RunResult[];
  markdown: string;
}

export async function experimentCommand(
  argv: readonly string[],
  log: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Promise<ExperimentOutcome> {
  const args = parseExperimentArgs(argv);
  if (args.warning) log(`warning: ${args.warning}`);
  // Opened before any training, so a read-only or busy out directory is refused in seconds, not after hours.
  const tx =
    args.config.outDirectory !== undefined
      ? OutTransaction.open(resolve(args.config.outDirectory), { command: 'experiment', manages: ['experiment.md', 'experiment.json'] })
      : undefined;
  try {
    return await runAndWrite(argv, args, tx, log);
  } finally {
    tx?.abort();
  }
}

async function runAndWrite(
  argv: readonly string[],
  args: ReturnType<typeof parseExperimentArgs>,
  tx: OutTransaction | undefined,
  log: (line: string) => void,
): Promise<ExperimentOutcome> {
  const data = loadExperimentData(resolve(args.config.dataDirectory!), args.holdoutDirectory, args.config.seed, log);
  const plan = planRuns(args.config, args.widths, args.seeds, args.modes, args.plainWidths);
  const plainOnly = args.plainWidths.length > 0 ? `; plain only at ${args.plainWidths.join(', ')}` : '';
  const onJobs = args.queue ? ` on the queue ${redactUrl(args.queue)}` : args.jobs > 1 ? ` on ${args.jobs} local worker processes` : '';
  log(
    `experiment: ${plan.length} runs (widths ${args.widths.join(', ')}; ${args.seeds} seeds; baseline + ${args.modes.join(', ')}${plainOnly}), ${args.config.epochs} epochs each${onJobs}`,
  );
  const command = `dendritic experiment ${argv.join(' ')}`;
  const sizes = { train: data.train.n, validation: data.validation.n, holdout: data.holdout.n };
  // Without an out directory there is nothing to resume into: the runs' files go to a temporary directory.
  const scratch = tx ? undefined : mkdtempSync(join(tmpdir(), 'dendritic-experiment-'));
  let outcome: PlanOutcome;
  try {
    outcome = await runPlan({
      plan,
      dataDirectory: resolve(args.config.dataDirectory!),
      holdoutDirectory: args.holdoutDirectory === undefined ? undefined : resolve(args.holdoutDirectory),
      dataSeed: args.config.seed,
      stateDirectory: scratch ?? join(tx!.outDir, 'experiment-runs'),
      window: args.queue ? plan.length : args.jobs,
      makeBackend: await backendMaker(args.queue, args.jobs, log),
      log,
      onStopInFlight: args.queue
        ? 'the runs on the queue stay there for the workers, and a rerun collects their results'
        : 'the runs in flight are stopped and run again by a rerun',
      onRun: (r, i, progress) => {
        log(
          `[${progress.runs.length}/${plan.length}] run ${i + 1}: width ${r.width} seed ${r.seed} ${r.variant.padEnd(11)} hold-out ${(100 * r.holdoutAccuracy).toFixed(1)}%  val ${(100 * r.validationAccuracy).toFixed(1)}%  params ${r.parameters}  sets ${r.dendriteSets}  best epoch ${r.bestEpoch}/${r.epochsRun}  ${r.seconds.toFixed(1)} s`,
        );
        // Results as they happen: a user watching a long experiment sees the table grow, a killed one leaves them.
        if (tx && progress.runs.length < plan.length) stage(tx, renderResults(command, sizes, progress).file).publishProgress();
      },
    });
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  const results = renderResults(command, sizes, outcome);
  process.stdout.write(results.markdown);
  // A signal that came after the last run was recorded stopped nothing: the experiment is complete.
  if (outcome.interrupted && outcome.runs.length < outcome.planned) return interruptedOutcome(outcome, results, tx, log);
  if (tx) {
    stage(tx, results.file).publish();
    log(`wrote ${join(tx.outDir, 'experiment.md')} and experiment.json${outcome.failed.length ? ' (without the failed runs)' : ''}`);
  }
  if (outcome.failed.length) {
    log(
      `${outcome.failed.length} of ${outcome.planned} runs failed (${outcome.failed.map((f) => f.id).join(', ')}): the table leaves them out; their logs say why; rerun the same command to try them again`,
    );
    return { exitCode: 1, ...results };
  }
  return { exitCode: 0, ...results };
}

/** Publishes the runs a stopped experiment finished (if any) and says how to continue it. */
function interruptedOutcome(
  outcome: PlanOutcome,
  results: ReturnType<typeof renderResults>,
  tx: OutTransaction | undefined,
  log: (line: string) => void,
): ExperimentOutcome {
  const done = `${outcome.runs.length} of ${outcome.planned} runs done`;
  if (!tx) log(`${done}; without --out-directory nothing is kept: rerun with --out-directory to be able to resume`);
  else if (outcome.runs.length === 0) log(`${done}; nothing to publish, ${tx.outDir} is as it was; rerun the same command to start again`);
  else {
    stage(tx, results.file).publish();
    log(`${done}: wrote them to ${join(tx.outDir, 'experiment.md')} and experiment.json (partial); rerun the same command to continue`);
  }
  return { exitCode: signalExitCode(outcome.interrupted!), rows: results.rows, runs: results.runs, markdown: results.markdown };
}

interface SplitSizes {
  train: number;
  validation: number;
  holdout: number;
}

/**
 * The table and experiment.md/json of the runs recorded so far. Partial results (fewer runs than
 * planned) say so: `complete: false` and `runs_done` of `runs_planned` in the JSON, a first line in the
 * markdown; rows and the plain front then cover the finished runs only.
 */
function renderResults(command: string, sizes: SplitSizes, progress: PlanProgress) {
  const { runs, ids, planned, failed } = progress;
  const rows = summarise(runs);
  const front = plainFront(runs);
  const complete = runs.length === planned;
  const failures = failed.length
    ? ` ${failed.length} run${failed.length === 1 ? '' : 's'} failed and ${failed.length === 1 ? 'is' : 'are'} left out: ${failed.map((f) => `${f.id} (run ${f.run}: ${f.error}; log ${f.log})`).join('; ')}.`
    : '';
  const status = complete
    ? `${runs.length} of ${planned} runs done.`
    : `Partial results: ${runs.length} of ${planned} runs done (rows and the plain front cover the finished runs only; a stopped experiment continues when the same command is rerun).${failures}`;
  const markdown = `${status}\n\n${renderMarkdown(rows, front)}`;
  const json = {
    command,
    ...sizes,
    rows,
    front,
    runs: runs.map((r, i) => ({ id: ids[i]!, ...r })),
    complete,
    runs_done: runs.length,
    runs_planned: planned,
    failed_runs: failed,
  };
  return {
    rows,
    runs,
    markdown,
    file: { markdown: `Command: \`${command}\`\n\n${markdown}`, json: `${JSON.stringify(json, null, 1)}\n` },
  };
}

function stage(tx: OutTransaction, file: { markdown: string; json: string }): OutTransaction {
  tx.writeFile('experiment.md', file.markdown);
  tx.writeFile('experiment.json', file.json);
  return tx;
}

/** Local slots (--jobs), or the sweep queue (--queue, checked to answer before any run is queued). */
async function backendMaker(queue: string | undefined, jobs: number, log: (line: string) => void): Promise<(id: string) => Promise<Backend>> {
  if (queue === undefined) return async () => new LocalBackend(jobs);
  const { parseQueueUrl, pingRedis, QueueBackend } = await import('../sweep/queue.js');
  const addr = parseQueueUrl(queue);
  await pingRedis(addr, queue);
  return async (id) => new QueueBackend(addr, id, { url: queue, log });
}

/**
 * Train and validation come from the data directory; the hold-out from --holdout-directory. Without one,
 * the validation split is halved (seeded): one half drives switching and best restore, the other is
 * only scored, so no training decision ever sees the scored samples.
 */
export function loadExperimentData(dataDir: string, holdoutDir: string | undefined, seed: number, log: (line: string) => void): ExperimentData {
  const d = loadEiDirectory(dataDir);
  const train: LabelledSet = { x: d.xTrain, y: d.yTrain, n: d.yTrain.length, features: d.features };
  const val: LabelledSet = { x: d.xVal, y: d.yVal, n: d.yVal.length, features: d.features };
  const common = { train, classes: d.classes.length, ...(d.inputShape ? { inputShape: d.inputShape } : {}) };
  if (holdoutDir !== undefined) {
    const h = loadEiTestSplit(resolve(holdoutDir), d.classes.length, d.features);
    log(`data: ${train.n} train, ${val.n} validation, ${h.rows} hold-out (${holdoutDir}), ${d.features} features, ${d.classes.length} classes`);
    return { ...common, validation: val, holdout: { x: h.x, y: h.y, n: h.rows, features: d.features } };
  }
  if (val.n < 2)
    throw new UserError(`${dataDir}: X_split_test.npy: rows: need at least 2 to halve into validation and hold-out without --holdout-directory`);
  const order = Array.from({ length: val.n }, (_, i) => i);
  new Rng(seed).shuffle(order);
  const half = Math.floor(val.n / 2);
  const rows = (idx: number[]): LabelledSet => {
    const x = new Float32Array(idx.length * d.features);
    const y = new Int32Array(idx.length);
    idx.forEach((src, i) => {
      x.set(val.x.subarray(src * d.features, (src + 1) * d.features), i * d.features);
      y[i] = val.y[src]!;
    });
    return { x, y, n: idx.length, features: d.features };
  };
  log(`data: no --holdout-directory: the validation split is halved into ${half} validation and ${val.n - half} hold-out rows`);
  return { ...common, validation: rows(order.slice(0, half)), holdout: rows(order.slice(half)) };
}
