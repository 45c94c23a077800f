/** Shared by the experiment tests that run the CLI: the small experiment, reading its results and state. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ExperimentJson {
  rows: unknown[];
  front: unknown[];
  runs: Array<{ id: string; seconds: number; config: { outDirectory?: string } }>;
  complete: boolean;
  runs_done: number;
  runs_planned: number;
  failed_runs: Array<{ id: string; run: number; error: string; log: string }>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function readExperiment(out: string): ExperimentJson {
  return JSON.parse(readFileSync(join(out, 'experiment.json'), 'utf8')) as ExperimentJson;
}

/** The run ids OUT/experiment-runs/state.json records, sorted. */
export function recordedIds(out: string): string[] {
  const state = JSON.parse(readFileSync(join(out, 'experiment-runs', 'state.json'), 'utf8')) as { runs: Record<string, unknown> };
  return Object.keys(state.runs).sort();
}

/** r0001 .. r000n: the ids of a plan of n runs. */
export const ids = (n: number) => Array.from({ length: n }, (_, i) => `r${String(i + 1).padStart(4, '0')}`);

/** Processes whose command line mentions `path` (an experiment's run children name their spec by path). */
export function processesUnder(path: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .flatMap((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return cmd.includes(path) ? [`${pid}: ${cmd}`] : [];
      } catch {
        return []; // gone meanwhile
      }
    });
}

/**
 * 6 runs (width 0.5: baseline and gd, plain width 1; 2 seeds) of `epochs` epochs: a fraction of a second each on tiny data.
 * Gated sets (the default until issue 22): the tests' device figures are those of sets that stay in the graph.
 */
export function experimentFlags(epochs = 4): string[] {
  const fixedSwitchAt2 = ['--switch-mode', 'fixed', '--first-fixed-switch-num', '2', '--fixed-switch-num', '2'];
  return [
    '--model',
    'dense',
    '--epochs',
    String(epochs),
    '--widths',
    '0.5',
    '--plain-widths',
    '1',
    '--seeds',
    '2',
    '--modes',
    'gd',
    '--dendrite-form',
    'gated',
    ...fixedSwitchAt2,
  ];
}

/** The CLI's argv of that experiment into `out`. */
export function experimentArgs(data: string, out: string, epochs = 4): string[] {
  return ['experiment', '--data-directory', data, '--out-directory', out, ...experimentFlags(epochs)];
}

/** experiment.json's runs without what may differ between two experiments of the same runs: wall time, out directory. */
export function runsOf(out: string): unknown[] {
  return readExperiment(out).runs.map(({ seconds: _s, config: { outDirectory: _o, ...config }, ...rest }) => ({ ...rest, config }));
}

/** The plan indices (1-based) of the runs an experiment's log says it finished. */
export function loggedRuns(stderr: string, planned = 6): number[] {
  return [...stderr.matchAll(new RegExp(`^\\[\\d+/${planned}\\] run (\\d+):`, 'gm'))].map((m) => Number(m[1]));
}
