/**
 * One trial: one `dendritic train` run of the block as a child process, with the trial's parameters as
 * its flags, into its own out directory. Its results come from that run's report.json; its per-epoch
 * metrics, for early termination, from the metrics.jsonl the run writes while it goes on (the log line
 * `metrics: PATH` names it). A pruned trial is stopped with SIGTERM: `train` then keeps its best
 * weights, publishes, and exits 143. The child is preloaded with watchdog.js, so it dies with its worker.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCHEMA } from '../params/schema.js';
import { edgeImpulseArgv } from '../params/values.js';
import type { Goal, MetricName, Params } from './config.js';
import { hyperbandStops, type MilestoneStore } from './hyperband.js';

export type TrialStatus = 'completed' | 'failed' | 'pruned';

export interface TrialDeployment {
  variant: string;
  ram_bytes: number;
  flash_bytes: number;
  macs: number;
  /** Estimated milliseconds per inference (report.json deployment[].latency_ms); null when not estimated. */
  latency_ms?: number | null;
}

/** What dendritic optimisation did in a trial (report.json `dendrites`). */
export interface TrialDendrites {
  /** Whether the trial ran with dendrites on. */
  enabled: boolean;
  /** Dendrite sets tried (kept or discarded). */
  tried: number;
  /** Sets in the trained dendritic network. */
  kept: number;
  /**
   * The network the trial shipped: 'dendritic' (with `kept` sets), or 'plain' (no dendrites: none
   * was kept, dendrites were off, or the payoff check found a plain network as good for no more device cost).
   */
  shipped: 'dendritic' | 'plain';
  /** Sets in the shipped network (0 when it is plain). */
  shipped_sets: number;
}

export interface TrialResult {
  id: string;
  params: Params;
  status: TrialStatus;
  /**
   * Validation accuracy (0..1) and loss of the trial's final model (report.json `validation`), and the
   * int8 TFLite file's validation accuracy (report.json `exports[]`, format tflite-int8; null without one).
   */
  metrics: { accuracy: number | null; loss: number | null; int8_accuracy?: number | null } | null;
  /** The int8 TFLite deployment's device figures (report.json `deployment[]`), else the first listed. */
  deployment: TrialDeployment | null;
  /** Epochs the run trained (report.json `history`). */
  epochs: number | null;
  /** Dendrite sets tried and kept, and which network shipped; absent for a failed trial. */
  dendrites?: TrialDendrites | null;
  /** The sweep's constraints this trial misses (e.g. 'ram_bytes 81234 > 65536'); absent when it meets them or there are none. */
  constraints_missed?: string[];
  /** The milestone epoch at which hyperband stopped it (pruned trials). */
  pruned_at_epoch?: number;
  seconds: number;
  worker: string;
  /** The trial's out directory, relative to the sweep's out directory when inside it. */
  out: string;
  /** Why a failed trial failed (its last error line). */
  error?: string;
  /**
   * The trial was stopped by a signal from outside the sweep (its train process was sent SIGTERM or
   * SIGINT by someone else): not recorded, it stays pending and a rerun runs it again.
   */
  retry?: boolean;
}

export interface TrialSpec {
  id: string;
  params: Params;
  dataDirectory: string;
  /** The trial's own out directory (absolute). */
  outDirectory: string;
  /** Where the out directory is reported relative to. */
  sweepDirectory: string;
  /** strict: judge the metric at the milestone epoch; else the best value up to it (W&B's default). */
  pruning: { milestones: number[]; eta: number; goal: Goal; metric: MetricName; strict?: boolean } | null;
  /**
   * 'train' (the default): a `train` run of the block with `params` as its flags. 'experiment-run': one
   * planned run of `dendritic experiment`, `dendritic experiment-run --spec OUT/spec.json --out OUT/run.json`
   * (src/commands/experiment-run.ts); its figures come from that run.json.
   */
  kind?: 'train' | 'experiment-run';
}

/** The block flags of a trial's parameters, as Edge Impulse passes them (`--p value`, booleans 1/0). */
export function paramFlags(params: Params): string[] {
  return Object.entries(params).flatMap(([param, value]) => {
    const spec = SCHEMA.find((s) => s.param === param);
    if (!spec) throw new Error(`no block parameter ${param}`);
    return edgeImpulseArgv(spec, value);
  });
}

/**
 * node's arguments up to the CLI script: the watchdog preloaded, the built CLI; run from the sources
 * (the tests, under tsx), the sources' CLI through tsx.
 */
function nodePrefix(): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const ext = fromSource ? 'ts' : 'js';
  return [
    ...(fromSource ? ['--import', import.meta.resolve('tsx')] : []),
    '--import',
    fileURLToPath(new URL(`./watchdog.${ext}`, import.meta.url)),
    fileURLToPath(new URL(`../cli.${ext}`, import.meta.url)),
  ];
}

function trialArgv(spec: TrialSpec): string[] {
  if (spec.kind === 'experiment-run')
    return [...nodePrefix(), 'experiment-run', '--spec', join(spec.outDirectory, 'spec.json'), '--out', join(spec.outDirectory, 'run.json')];
  // As Edge Impulse runs the block: with the data directory's train_input.json (class names, the input
  // shape that makes image data a conv2d network, the time limit), when it has one.
  const info = join(spec.dataDirectory, 'train_input.json');
  return [
    ...nodePrefix(),
    'train',
    '--data-directory',
    spec.dataDirectory,
    ...(existsSync(info) ? ['--info-file', info] : []),
    '--out-directory',
    spec.outDirectory,
    ...paramFlags(spec.params),
    '--json-logs',
  ];
}

interface MetricsLine {
  run?: string;
  epoch?: number;
  val_acc?: number | null;
  val_loss?: number | null;
}

/** Reads the complete lines appended to a file since the last call. */
class Tail {
  private offset = 0;
  private partial = '';
  constructor(private readonly path: string) {}
  read(): string[] {
    if (!existsSync(this.path)) return [];
    const fd = openSync(this.path, 'r');
    try {
      const buf = Buffer.alloc(65536);
      let text = '';
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        text += buf.subarray(0, n).toString('utf8');
      }
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      return lines.filter((l) => l.trim() !== '');
    } finally {
      closeSync(fd);
    }
  }
}

export interface RunningTrial {
  result: Promise<TrialResult>;
  /** Stops the trial's process at once (SIGKILL): used when the sweep itself is interrupted. */
  kill(): void;
  pid: number | undefined;
}

interface TrialEnd {
  started: number;
  log: readonly string[];
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The milestone epoch at which hyperband stopped the trial (SIGTERM), if it did. */
  prunedAt: number | undefined;
  /** The `error:` line train printed, if any. */
  errorLine: string | undefined;
}

/** What a finished trial process leaves: its log beside its out directory, and its result from report.json. */
function finishedTrial(spec: TrialSpec, worker: string, end: TrialEnd): TrialResult {
  const rel = spec.outDirectory.startsWith(`${spec.sweepDirectory}/`) ? spec.outDirectory.slice(spec.sweepDirectory.length + 1) : spec.outDirectory;
  try {
    writeFileSync(`${spec.outDirectory}.log`, `${end.log.join('\n')}\n`);
  } catch {
    // the log is a convenience; the result does not depend on it
  }
  const base = { id: spec.id, params: spec.params, seconds: (Date.now() - end.started) / 1000, worker, out: rel };
  const report =
    spec.kind === 'experiment-run' ? readExperimentRun(join(spec.outDirectory, 'run.json')) : readReport(join(spec.outDirectory, 'report.json'));
  // A run that ended before the SIGTERM arrived (exit 0) finished normally: completed, not pruned.
  const pruned = end.prunedAt !== undefined && end.code === 143;
  // Stopped by a signal nobody in the sweep sent (train exits 143/130 after publishing its best weights,
  // or dies of it): not the trial's failure, and not its full run either. It runs again on rerun.
  const outside = !pruned && (end.code === 143 || end.code === 130 || end.signal === 'SIGTERM' || end.signal === 'SIGINT');
  if (outside) {
    const how = end.code !== null ? `exit ${end.code}` : `signal ${end.signal}`;
    return {
      ...base,
      status: 'failed',
      metrics: null,
      deployment: null,
      epochs: null,
      error: `stopped from outside the sweep (${how}): not recorded; a rerun runs it again`,
      retry: true,
    };
  }
  const ok = end.code === 0 || pruned;
  if (!ok || !report) {
    const why =
      end.errorLine ??
      `${spec.kind ?? 'train'} exited with ${end.signal ? `signal ${end.signal}` : `code ${end.code}`}${report ? '' : ` without a ${spec.kind === 'experiment-run' ? 'run' : 'report'}.json`}`;
    return { ...base, status: 'failed', metrics: null, deployment: null, epochs: null, error: why };
  }
  return { ...base, status: pruned ? 'pruned' : 'completed', ...report, ...(pruned ? { pruned_at_epoch: end.prunedAt } : {}) };
}

/** The result of a trial whose process could not be started. */
function notStarted(spec: TrialSpec, worker: string, started: number, err: Error): TrialResult {
  const base = { id: spec.id, params: spec.params, seconds: (Date.now() - started) / 1000, worker, out: spec.outDirectory };
  return { ...base, status: 'failed', metrics: null, deployment: null, epochs: null, error: err.message };
}

/** Starts a trial; `store` keeps the milestone values when the sweep prunes. */
export function startTrial(spec: TrialSpec, worker: string, store: MilestoneStore | null): RunningTrial {
  const started = Date.now();
  mkdirSync(dirname(spec.outDirectory), { recursive: true });
  // Its own process group: a Ctrl-C at the terminal reaches only the sweep, experiment or worker, which
  // decides what happens to its trials (kill them, or let the running one finish), instead of every
  // trial stopping on its own and ending as failed. The watchdog still ties the trial to its parent.
  const child = spawn(process.execPath, trialArgv(spec), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const log: string[] = [];
  let errorLine: string | undefined;
  let tail: Tail | undefined;
  let prunedAt: number | undefined;
  let chain: Promise<void> = Promise.resolve();
  const judged = new Set<number>();
  const bestSoFar = new BestSoFar();

  const checkMetrics = () => {
    if (!tail || !spec.pruning || !store || prunedAt !== undefined) return;
    for (const line of tail.read()) {
      let m: MetricsLine;
      try {
        m = JSON.parse(line) as MetricsLine;
      } catch {
        continue;
      }
      if (m.run !== 'train' || typeof m.epoch !== 'number') continue;
      const seen = spec.pruning.metric === 'accuracy' ? m.val_acc : m.val_loss;
      if (!spec.pruning.milestones.includes(m.epoch) || judged.has(m.epoch)) {
        if (typeof seen === 'number') bestSoFar.update(seen, spec.pruning.goal);
        continue;
      }
      const current = spec.pruning.metric === 'accuracy' ? m.val_acc : m.val_loss;
      if (typeof current !== 'number') continue;
      const value = spec.pruning.strict === false ? bestSoFar.update(current, spec.pruning.goal) : current;
      judged.add(m.epoch);
      const epoch = m.epoch;
      const pruning = spec.pruning;
      chain = chain.then(async () => {
        const all = await store.record(epoch, spec.id, value);
        if (prunedAt === undefined && hyperbandStops(value, all, pruning.eta, pruning.goal) && child.exitCode === null) {
          prunedAt = epoch;
          child.kill('SIGTERM');
        }
      });
    }
  };

  let stdoutRest = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (stdoutRest + chunk).split('\n');
    stdoutRest = lines.pop() ?? '';
    for (const line of lines) {
      log.push(line);
      let event: { type?: string; message?: string };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        continue;
      }
      const metricsPath = event.type === 'info' && typeof event.message === 'string' ? /^metrics: (\S+)/.exec(event.message)?.[1] : undefined;
      if (metricsPath) tail = new Tail(metricsPath);
      if (event.type === 'epoch') checkMetrics();
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      log.push(line);
      if (/^(error|internal error):/.test(line)) errorLine = line;
    }
  });
  const poll = setInterval(checkMetrics, 250);

  const result = new Promise<TrialResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearInterval(poll);
      void chain.then(() => resolve(finishedTrial(spec, worker, { started, log, code, signal, prunedAt, errorLine })));
    });
    child.on('error', (err) => {
      clearInterval(poll);
      resolve(notStarted(spec, worker, started, err));
    });
  });
  return { result, kill: () => child.kill('SIGKILL'), pid: child.pid };
}

/** The best metric value seen so far (hyperband with strict: false judges it). */
class BestSoFar {
  private best: number | undefined;
  update(v: number, goal: Goal): number {
    if (this.best === undefined || (goal === 'maximize' ? v > this.best : v < this.best)) this.best = v;
    return this.best;
  }
}

interface ReportJson {
  validation?: { accuracy?: number; loss?: number | null };
  deployment?: Array<{ variant?: string; ram_bytes?: number; flash_bytes?: number; macs?: number; latency_ms?: number | null }>;
  exports?: Array<{ format?: string; accuracy?: number | null }>;
  history?: unknown[];
  dendrites?: { enabled?: boolean; added?: number; tried?: number; payoff?: { shipped?: string; dendritic?: { sets?: number } } };
}

/** What dendrites did, from report.json's `dendrites` (added = sets in the shipped run's network). */
export function trialDendrites(d: ReportJson['dendrites']): TrialDendrites | null {
  if (!d || typeof d.tried !== 'number' || typeof d.added !== 'number') return null;
  const plainShipped = d.payoff?.shipped === 'plain';
  const kept = plainShipped ? (d.payoff?.dendritic?.sets ?? d.added) : d.added;
  const shipped = plainShipped || d.added === 0 ? 'plain' : 'dendritic';
  return { enabled: d.enabled === true, tried: d.tried, kept, shipped, shipped_sets: shipped === 'plain' ? 0 : d.added };
}

/** The figures a sweep keeps from a trial's report.json; undefined when there is none. */
export function readReport(path: string): Pick<TrialResult, 'metrics' | 'deployment' | 'epochs' | 'dendrites'> | undefined {
  let r: ReportJson;
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as ReportJson;
  } catch {
    return undefined;
  }
  const deployments = r.deployment ?? [];
  const d = deployments.find((x) => x.variant === 'tflite-int8') ?? deployments[0];
  const int8 = (r.exports ?? []).find((x) => x.format === 'tflite-int8');
  return {
    metrics: { accuracy: r.validation?.accuracy ?? null, loss: r.validation?.loss ?? null, int8_accuracy: int8?.accuracy ?? null },
    deployment:
      d && typeof d.ram_bytes === 'number' && typeof d.flash_bytes === 'number' && typeof d.macs === 'number'
        ? { variant: d.variant ?? '?', ram_bytes: d.ram_bytes, flash_bytes: d.flash_bytes, macs: d.macs, latency_ms: d.latency_ms ?? null }
        : null,
    epochs: Array.isArray(r.history) ? r.history.length : null,
    dendrites: trialDendrites(r.dendrites),
  };
}

/** An experiment run's figures (its run.json: hold-out accuracy, epochs); undefined when there is none. */
export function readExperimentRun(path: string): Pick<TrialResult, 'metrics' | 'deployment' | 'epochs'> | undefined {
  let r: { holdoutAccuracy?: number; epochsRun?: number };
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as typeof r;
  } catch {
    return undefined;
  }
  return { metrics: { accuracy: r.holdoutAccuracy ?? null, loss: null }, deployment: null, epochs: r.epochsRun ?? null };
}
