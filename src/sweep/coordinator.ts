/**
 * The sweep loop: propose trials (search.ts), keep up to `window` of them running on the backend,
 * record each result in O/sweep.json (atomically, once per trial id) and re-render O/sweep.html.
 * One coordinator per out directory (the out-directory lock); rerunning the same command resumes.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { acquireOutLock } from '../util/out-lock.js';
import type { Backend } from './backend.js';
import type { Params, SweepConfig } from './config.js';
import { driveTrials, StopSignals } from './drive.js';
import { dendriteOutcome, renderSweepHtml } from './html.js';
import { reachesTarget } from './metrics.js';
import { createSearch, observationsOf } from './search.js';
import { SweepState, trialId } from './state.js';
import type { TrialResult, TrialSpec } from './trial.js';

export interface SweepOptions {
  config: SweepConfig;
  dataDirectory: string;
  outDirectory: string;
  /** Trials running at once: local slots, or with a queue the trials kept queued and running. */
  window: number;
  queueUrl: string | null;
  makeBackend(sweepId: string): Promise<Backend>;
  log(line: string): void;
}

export interface SweepOutcome {
  state: SweepState;
  recorded: number;
  /** Trials stopped from outside the sweep, left pending for a rerun. */
  unfinished: string[];
  /** The signal that stopped the sweep, or null. */
  interrupted: NodeJS.Signals | null;
}

export function describeResult(t: TrialResult): string {
  const parts: string[] = [t.status];
  if (t.metrics?.accuracy != null) parts.push(`accuracy ${t.metrics.accuracy.toFixed(4)}`);
  if (t.metrics?.loss != null) parts.push(`loss ${t.metrics.loss.toFixed(4)}`);
  if (t.deployment) parts.push(`RAM ${t.deployment.ram_bytes} B, flash ${t.deployment.flash_bytes} B`);
  if (t.metrics?.int8_accuracy != null) parts.push(`int8 accuracy ${t.metrics.int8_accuracy.toFixed(4)}`);
  if (t.dendrites) parts.push(`dendrites: ${dendriteOutcome(t.dendrites)}`);
  if (t.pruned_at_epoch !== undefined) parts.push(`pruned at epoch ${t.pruned_at_epoch}`);
  if (t.error) parts.push(t.error);
  return `${parts.join(', ')} (${t.seconds.toFixed(1)} s, ${t.worker})`;
}

export async function runSweep(opts: SweepOptions): Promise<SweepOutcome> {
  const out = resolve(opts.outDirectory);
  const data = resolve(opts.dataDirectory);
  mkdirSync(join(out, 'trials'), { recursive: true });
  const lock = acquireOutLock(join(out, '.sweep-lock'), out, 'sweep');
  let backend: Backend | undefined;
  const stop = new StopSignals((signal) => {
    opts.log(`${signal}: stopping the sweep; rerun the same command to continue it`);
    backend?.abort();
  });
  try {
    const { config } = opts;
    const state = SweepState.open(out, config, data, opts.queueUrl);
    const search = createSearch(config);
    backend = await opts.makeBackend(state.file.sweep_id);
    const spec = (id: string, params: Params): TrialSpec => ({
      id,
      params,
      dataDirectory: data,
      outDirectory: join(out, 'trials', id),
      sweepDirectory: out,
      pruning: config.earlyTerminate
        ? {
            milestones: config.earlyTerminate.milestones,
            eta: config.earlyTerminate.eta,
            goal: config.metric.goal,
            metric: config.metric.name,
            strict: config.earlyTerminate.strict,
          }
        : null,
    });
    const publish = () => {
      state.write();
      writeFileAtomic(join(out, 'sweep.html'), renderSweepHtml(state.file));
    };
    if (state.file.trials.length > 0 || state.file.pending.length > 0) {
      opts.log(`resuming sweep ${state.file.sweep_id}: ${state.file.trials.length} trials finished, ${state.file.pending.length} pending`);
    }
    for (const p of state.file.pending) await backend.submit(spec(p.id, p.params));
    publish();
    let recorded = 0;
    let targetLogged = false;
    const propose = (): TrialSpec | undefined => {
      if (state.proposed >= config.trials) return undefined;
      const reached = state.file.trials.find((t) => reachesTarget(config, t));
      if (reached) {
        if (!targetLogged) opts.log(`trial ${reached.id} reached metric.target ${config.metric.target}: no further trial is started`);
        targetLogged = true;
        return undefined;
      }
      const index = state.proposed;
      const observations = observationsOf(config, state.file.trials);
      const id = trialId(index);
      const params = search.propose(
        index,
        observations,
        [...state.file.trials, ...state.file.pending].map((t) => t.params),
      );
      state.addPending(id, params);
      state.write(); // the proposal is durable before the trial starts
      return spec(id, params);
    };
    const unfinished: string[] = [];
    const record = (result: TrialResult) => {
      if (result.retry) {
        // Stays pending: a rerun runs it again (its process was signalled by someone else).
        unfinished.push(result.id);
        opts.log(`trial ${result.id} ${result.error ?? 'stopped from outside the sweep'} (${result.worker})`);
        return;
      }
      if (!state.record(result)) return;
      recorded++;
      publish();
      opts.log(`trial ${result.id} ${describeResult(result)} [${state.file.trials.length}/${config.trials}]`);
    };
    const interrupted = await driveTrials({ backend, window: opts.window, propose, record, stop });
    return { state, recorded, unfinished, interrupted };
  } finally {
    stop.dispose();
    await backend?.close();
    lock.release();
  }
}

/** `dendritic sweep best O`: the winning settings as block flags and as a parameters.json fragment. */
export function renderBest(
  file: SweepState['file'],
  parametersJson: { parameters: Array<{ param: string; value: unknown; type: string }> },
  flags: (p: Params) => string[],
): string {
  const best = file.best;
  if (!best) throw new UserError(`sweep.json: best: no completed trial yet: expected at least one trial to have completed`);
  const items = parametersJson.parameters
    .filter((item) => item.param in best.params)
    .map((item) => ({ ...item, value: item.type === 'string' ? String(best.params[item.param]) : best.params[item.param] }));
  const argv = flags(best.params).map((a) => (/^[\w.,:/@+=-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return [
    `# best trial ${best.id}: ${file.metric.name} ${best.value}${best.deployment ? `, RAM ${best.deployment.ram_bytes} B, flash ${best.deployment.flash_bytes} B, ${best.deployment.macs} MACs` : ''}; dendrites: ${dendriteOutcome(best.dendrites ?? null)}${file.constraints?.length ? `; meets the constraints (${file.constraints.map((c) => `${c.name}${c.min !== undefined ? ` >= ${c.min}` : ''}${c.max !== undefined ? ` <= ${c.max}` : ''}`).join(', ')})` : ''}`,
    "# block parameters (dendritic train ... or the block's arguments):",
    argv.join(' '),
    '# parameters.json fragment (these parameters with the best values as their defaults):',
    JSON.stringify(items, null, 2),
    '',
  ].join('\n');
}
