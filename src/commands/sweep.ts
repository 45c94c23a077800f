/**
 * `dendritic sweep --config sweep.yaml --data-directory D --out-directory O [--workers N] [--queue URL]`
 * and `dendritic sweep best O`. The sweep itself is src/sweep/ (docs/sweeps.md).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine, usageError } from '../cli/args.js';
import { UserError } from '../errors.js';
import { buildParametersJson } from '../params/parameters-json.js';
import { readSweepConfig } from '../sweep/config.js';
import { renderBest, runSweep } from '../sweep/coordinator.js';
import { signalExitCode } from '../sweep/drive.js';
import { LocalBackend } from '../sweep/local.js';
import { SweepState, type SweepFile } from '../sweep/state.js';
import { checkSweepFileForBest } from '../sweep/sweep-file.js';
import { paramFlags } from '../sweep/trial.js';
import { parseQueueUrl, redactUrl } from '../sweep/redis-url.js';

export const SWEEP_HELP = `Usage: dendritic sweep --config sweep.yaml --data-directory D --out-directory O [--workers N] [--queue redis://HOST:PORT]
       dendritic sweep best O
       dendritic sweep cancel O [--queue URL] [--purge] | --queue URL --all [--purge]

Runs a hyperparameter sweep: each trial is one 'dendritic train' run of the block with the trial's
parameters as its flags, into O/trials/<id>/ (its report.json, report.html and models). The config is
W&B's sweep format (YAML): method grid | random | bayes, metric {name, goal, target} (name: accuracy
(val_accuracy), loss (val_loss), or the deployed int8 model's int8_accuracy, ram_bytes, flash_bytes,
macs, latency_ms), parameters (any block parameter, with value, values (+ probabilities), or a W&B
distribution; nested groups allowed), run_cap, early_terminate {type: hyperband, min_iter | max_iter +
s, eta, strict}, and constraints {ram_bytes: {max: N}, ...} (our addition). Results as they happen:
O/sweep.json and O/sweep.html, with what dendrites did in each trial. Rerunning the same command
continues an interrupted sweep. See docs/sweeps.md.

Options:
  --config PATH          the sweep configuration (YAML)
  --data-directory D     Edge Impulse data directory, passed to every trial by path
  --out-directory O      sweep.json, sweep.html, trials/<id>/
  --workers N            trials at once (default 1): local train processes; with --queue, the trials
                         kept queued and running for the workers (default 8)
  --queue URL            redis://[USER:PASSWORD@]HOST:PORT (rediss:// for TLS; the password may instead
                         be in DENDRITIC_QUEUE_PASSWORD): put the trials on a BullMQ queue in that Redis for
                         'dendritic worker --queue URL' processes (on any machine that sees D and O
                         at the same paths) instead of running them here

dendritic sweep best O   prints the best trial's parameters as block flags and as a parameters.json
                         fragment, and what dendrites did in that trial
dendritic sweep cancel O [--queue URL] [--purge]
                         removes the sweep's trials that no worker has taken from its queue (running
                         ones finish); --purge also its finished jobs and hyperband values. Rerunning
                         the sweep queues its unfinished trials again.
dendritic sweep cancel --queue URL --all [--purge]
                         the same for every sweep on that queue
`;

function positiveInt(raw: string | undefined, option: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > 1024)
    throw usageError('sweep', `${option}: got '${raw}', expected an integer >= 1 and <= 1024`);
  return n;
}

export async function sweepCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'best') return bestCommand(argv.slice(1));
  if (argv[0] === 'cancel') return cancelCommand(argv.slice(1));
  const { values } = parseCommandLine('sweep', argv, {
    config: { type: 'string' },
    'data-directory': { type: 'string' },
    'out-directory': { type: 'string' },
    workers: { type: 'string' },
    queue: { type: 'string' },
  });
  for (const required of ['config', 'data-directory', 'out-directory'] as const) {
    if (values[required] === undefined) throw usageError('sweep', `--${required}: missing`);
  }
  const queueUrl = values.queue ?? null;
  const shownQueue = queueUrl === null ? null : redactUrl(queueUrl); // sweep.json and the log never hold a password
  const window = positiveInt(values.workers, '--workers', queueUrl ? 8 : 1);
  const dataDirectory = values['data-directory']!;
  if (!existsSync(join(dataDirectory, 'X_split_train.npy'))) {
    throw new UserError(`${dataDirectory}: data-directory: no X_split_train.npy: expected an Edge Impulse data directory`);
  }
  const config = readSweepConfig(values.config!);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  if (config.ignored.length) log(`note: ${config.ignored.join(', ')} in ${config.file} ignored: a trial is always 'dendritic train'`);
  for (const note of config.notes ?? []) log(`note: ${config.file}: ${note}`);
  let makeBackend = async (_sweepId: string) => new LocalBackend(window) as import('../sweep/backend.js').Backend;
  if (queueUrl) {
    const { pingRedis, QueueBackend } = await import('../sweep/queue.js');
    const addr = parseQueueUrl(queueUrl);
    await pingRedis(addr, queueUrl);
    const { watchWorkers } = await import('../sweep/cancel.js');
    makeBackend = async (sweepId) => watchWorkers(new QueueBackend(addr, sweepId, { url: queueUrl, log }), addr, queueUrl, sweepId, log);
  }
  log(
    `sweep: ${config.method} search over ${config.dimensions.length} parameters, ${config.trials} trials, ${shownQueue ? `queue ${shownQueue}` : `${window} local worker${window > 1 ? 's' : ''}`}`,
  );
  const outcome = await runSweep({ config, dataDirectory, outDirectory: values['out-directory']!, window, queueUrl: shownQueue, makeBackend, log });
  const file = outcome.state.file;
  const summary = {
    sweep: SweepState.path(outcome.state.dir),
    html: join(outcome.state.dir, 'sweep.html'),
    trials: file.trials.length,
    completed: file.trials.filter((t) => t.status === 'completed').length,
    pruned: file.trials.filter((t) => t.status === 'pruned').length,
    failed: file.trials.filter((t) => t.status === 'failed').length,
    best: file.best ? { id: file.best.id, [file.metric.name]: file.best.value, dendrites: file.best.dendrites ?? null } : null,
  };
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (outcome.interrupted && queueUrl && file.pending.length) {
    log(
      `${file.pending.length} trials stay on the queue for a rerun of this command; 'dendritic sweep cancel ${values['out-directory']!}' removes the ones no worker has taken`,
    );
  }
  if (outcome.interrupted) return signalExitCode(outcome.interrupted);
  const failed = file.trials.filter((t) => t.status === 'failed');
  if (file.trials.length > 0 && failed.length === file.trials.length) {
    // Nothing to choose from: say why the first one failed instead of ending as if the sweep had worked.
    const first = [...failed].sort((a, b) => a.id.localeCompare(b.id))[0]!;
    log(`every trial failed (${first.id}: ${first.error ?? 'see its log'}); the logs: ${join(outcome.state.dir, 'trials')}/<id>.log`);
    return 1;
  }
  if (outcome.unfinished.length > 0) {
    log(`${outcome.unfinished.join(', ')}: stopped from outside the sweep, still pending: rerun the same command to run them again`);
    return 1;
  }
  return 0;
}

/**
 * `dendritic sweep cancel O [--queue URL] [--purge]`, `dendritic sweep cancel --queue URL --all [--purge]`:
 * removes a sweep's trials (or, with --all, every sweep's) that no worker has taken from the queue.
 */
async function cancelCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(
    'sweep cancel',
    argv,
    { queue: { type: 'string' }, purge: { type: 'boolean' }, all: { type: 'boolean' } },
    { min: 0, max: 1, names: 'the sweep out directory O (or --all with --queue)' },
  );
  if (values.all && positionals.length) throw usageError('sweep cancel', '--all: names every sweep on the queue; expected no out directory with it');
  if (!values.all && !positionals.length) throw usageError('sweep cancel', 'expected the sweep out directory O, or --all with --queue');
  let sweepId: string | null = null;
  let url = values.queue;
  if (positionals.length) {
    const file = readSweepFile(positionals[0]!);
    sweepId = file.sweep_id;
    url ??= file.queue ?? undefined;
    if (!url)
      throw new UserError(
        `${SweepState.path(positionals[0]!)}: queue: null: the sweep ran locally (no queue to cancel on); expected a sweep run with --queue, or give --queue URL`,
      );
  } else if (!url) throw usageError('sweep cancel', '--all: needs --queue URL');
  const { parseQueueUrl, pingRedis } = await import('../sweep/queue.js');
  const { cancelSweepJobs } = await import('../sweep/cancel.js');
  const addr = parseQueueUrl(url);
  await pingRedis(addr, url);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const r = await cancelSweepJobs(addr, url, sweepId, { purge: values.purge === true, log });
  const what = sweepId ? `sweep ${sweepId}` : 'every sweep';
  log(`cancelled ${r.removed.length} queued trials of ${what} on ${url}${r.removed.length ? ` (${r.removed.join(', ')})` : ''}`);
  if (r.running.length) log(`${r.running.length} running on a worker finish: ${r.running.join(', ')}`);
  if (values.purge) log(`purged ${r.purgedJobs} finished jobs and ${r.purgedKeys} hyperband keys`);
  if (sweepId) log(`sweep.json is unchanged: rerunning the same sweep command queues its unfinished trials again`);
  process.stdout.write(
    `${JSON.stringify({ sweep: sweepId, queue: url, removed: r.removed.length, running: r.running.length, purged_jobs: r.purgedJobs, purged_keys: r.purgedKeys })}\n`,
  );
  return 0;
}

function readSweepFile(dir: string): SweepFile {
  const path = SweepState.path(dir);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as SweepFile;
  } catch (err) {
    throw new UserError(
      `${path}: sweep.json: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): expected the out directory of a sweep`,
    );
  }
}

function bestCommand(argv: readonly string[]): number {
  const { positionals } = parseCommandLine('sweep best', argv, {}, { min: 1, max: 1, names: 'exactly one sweep out directory O' });
  const path = SweepState.path(positionals[0]!);
  let file: SweepFile;
  try {
    file = checkSweepFileForBest(JSON.parse(readFileSync(path, 'utf8')) as unknown, path);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(
      `${path}: sweep.json: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): expected the out directory of a sweep`,
    );
  }
  process.stdout.write(renderBest(file, buildParametersJson(), paramFlags));
  return 0;
}
