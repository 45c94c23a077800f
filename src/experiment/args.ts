/**
 * Command line of `dendritic experiment`: the experiment's own options (widths, seeds, modes, hold-out)
 * are taken out first; everything else is an ordinary training parameter parsed by the shared parser,
 * so baseline and dendritic runs start from exactly the configuration `train` would build.
 */
import { userError } from '../errors.js';
import { parseArgs, unknownArgsWarning } from '../params/parse.js';
import type { Config } from '../params/schema.js';

/**
 * gd / correlation: dendritic training as configured. frozen: a control, the gd cycle with every added
 * set frozen at v = 0, so the network never uses it: what is left is the cycle's schedule (restore best,
 * learning-rate restarts, longer training), which tells how much of a gain the dendrites themselves made.
 * restarts: the plain network with `restarts` (dendrites off): the cycle's schedule without any set, as
 * `train` runs a dendrites-off model (and, since issue 22, the checkbox's first run).
 * shipped: what `train` ships with dendrites on (src/train/checkbox.ts): the dendrites-off run, then the
 * gd run from its weights, whose linear sets fold away; the dendritic one ships only within
 * max-cost-ratio and strictly better on validation. The hold-out score and the device cost are the
 * shipped network's, so `shipped` - `restarts` per seed is the checkbox's gain over dendrites off.
 * shipped-merged: `shipped` with dendrite-form merged (the other form when the shared configuration
 * says merged already: shipped-merged always trains merged sets; shipped uses the configured form).
 */
export type DendriteMode = Config['dendriteTraining'] | 'frozen' | 'restarts' | 'shipped' | 'shipped-merged';
const MODES: readonly DendriteMode[] = ['gd', 'correlation', 'frozen', 'restarts', 'shipped', 'shipped-merged'];

export interface ExperimentArgs {
  /** The shared training configuration (width and seed are overridden per run). */
  config: Config;
  holdoutDirectory: string | undefined;
  widths: number[];
  /** Extra widths trained as baseline only: plain networks that bracket the dendritic models' parameter counts. */
  plainWidths: number[];
  /** Seeds config.seed, config.seed + 1, ... (one baseline and one dendritic run per mode each). */
  seeds: number;
  modes: DendriteMode[];
  /** Local processes that run the plan at once (results do not depend on it). */
  jobs: number;
  /** redis://HOST:PORT: the runs go on the sweep queue for `dendritic worker` processes instead. */
  queue: string | undefined;
  warning: string | undefined;
}

export const EXPERIMENT_DEFAULTS = {
  widths: [0.5, 1, 2],
  plainWidths: [] as number[],
  seeds: 3,
  modes: ['gd', 'correlation'] as DendriteMode[],
  jobs: 1,
} as const;

/** \`dendritic experiment --help\`. */
export const EXPERIMENT_HELP = `Usage: dendritic experiment --data-directory DIR [options] [training parameters]

Trains the plain network (baseline) and dendritic variants at several widths and seeds, scores every run
on a hold-out split no training decision saw, and prints a markdown table on stdout (progress on stderr).
With --out-directory, writes experiment.md and experiment.json there, after every finished run (marked
partial: N of M runs done) and complete at the end.

Options:
  --holdout-directory DIR  data directory whose X_split_test/Y_split_test is the hold-out
                           (default: half of the validation split, seeded)
  --widths LIST            model widths, comma-separated (default ${EXPERIMENT_DEFAULTS.widths.join(',')})
  --plain-widths LIST      extra widths trained as baseline only
  --seeds N                seeds per configuration, from --seed on (default ${EXPERIMENT_DEFAULTS.seeds})
  --modes LIST             dendritic variants: ${MODES.join(', ')} (default ${EXPERIMENT_DEFAULTS.modes.join(',')})
  --jobs N                 runs at once, each a local process (results do not depend on it; default ${EXPERIMENT_DEFAULTS.jobs})
  --queue URL              redis://HOST:PORT: put the runs on the sweep queue for 'dendritic worker --queue URL'
                           processes (on machines that see the data and out directories at the same paths;
                           needs --out-directory)
SIGINT/SIGTERM stop it: no further run starts, local runs in flight are stopped, the finished runs are
published (partial) and it exits 130/143. Rerunning the same command with the same --out-directory
continues an interrupted experiment: the runs recorded in OUT/experiment-runs/state.json are not run again.
Every other argument is a training parameter, as for 'dendritic train' (see 'dendritic train --help').
`;

const OWN_FLAGS = ['holdout-directory', 'widths', 'plain-widths', 'seeds', 'modes', 'jobs', 'queue'] as const;
type OwnFlag = (typeof OWN_FLAGS)[number];

export function parseExperimentArgs(argv: readonly string[]): ExperimentArgs {
  const own = new Map<OwnFlag, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    const eq = token.indexOf('=');
    const name = token.startsWith('--') ? token.slice(2, eq === -1 ? undefined : eq) : '';
    if (!(OWN_FLAGS as readonly string[]).includes(name)) {
      rest.push(token);
      continue;
    }
    let value: string | undefined = eq === -1 ? argv[i + 1] : token.slice(eq + 1);
    if (eq === -1) {
      if (value === undefined || value.startsWith('--')) throw userError('experiment', `--${name}`, 'expected a value after it');
      i++;
    }
    own.set(name as OwnFlag, value!);
    value = undefined;
  }
  const parsed = parseArgs(rest, { required: ['dataDirectory'] });
  const widths = own.has('widths') ? parseList(own.get('widths')!, '--widths', parseWidth) : [...EXPERIMENT_DEFAULTS.widths];
  const plainWidths = own.has('plain-widths') ? parseList(own.get('plain-widths')!, '--plain-widths', parseWidth) : [...EXPERIMENT_DEFAULTS.plainWidths];
  const seeds = own.has('seeds') ? parseSeeds(own.get('seeds')!) : EXPERIMENT_DEFAULTS.seeds;
  const jobs = own.has('jobs') ? parseJobs(own.get('jobs')!) : EXPERIMENT_DEFAULTS.jobs;
  const modes = own.has('modes') ? parseList(own.get('modes')!, '--modes', parseMode) : [...EXPERIMENT_DEFAULTS.modes];
  if (parsed.config.switchMode === 'none' || !parsed.config.dendrites) {
    throw userError(
      'experiment',
      parsed.config.dendrites ? '--switch-mode' : '--dendrites',
      'the dendritic runs need dendrites on and a switch mode other than none (the baseline runs turn them off themselves)',
    );
  }
  if (own.has('queue') && parsed.config.outDirectory === undefined) {
    // Refused before anything is queued: the runs' files would go to a temporary directory on this machine.
    throw userError(
      'experiment',
      '--out-directory',
      `missing: --queue needs it, since workers (possibly on other machines) read each run's spec and write its result by path under OUT/experiment-runs/, and only a directory they see at the same path works (a temporary directory here does not)`,
    );
  }
  return {
    config: parsed.config,
    holdoutDirectory: own.get('holdout-directory'),
    widths: [...new Set(widths)].sort((a, b) => a - b),
    plainWidths: [...new Set(plainWidths)].filter((w) => !widths.includes(w)).sort((a, b) => a - b),
    seeds,
    modes: [...new Set(modes)],
    jobs,
    queue: own.get('queue'),
    warning: unknownArgsWarning(parsed.unknown),
  };
}

function parseList<T>(raw: string, flag: string, item: (text: string, flag: string) => T): T[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw userError('experiment', flag, `expected a comma-separated list, got '${raw}'`);
  return parts.map((p) => item(p, flag));
}

function parseWidth(text: string, flag: string): number {
  const v = Number(text);
  if (!(Number.isFinite(v) && v > 0 && v <= 16)) throw userError('experiment', flag, `expected widths in (0, 16], got '${text}'`);
  return v;
}

function parseMode(text: string, flag: string): DendriteMode {
  if (!(MODES as readonly string[]).includes(text)) throw userError('experiment', flag, `expected ${MODES.join(' and/or ')}, got '${text}'`);
  return text as DendriteMode;
}

function parseSeeds(text: string): number {
  const v = Number(text);
  if (!(Number.isInteger(v) && v >= 1 && v <= 100)) throw userError('experiment', '--seeds', `expected a number of seeds from 1 to 100, got '${text}'`);
  return v;
}

function parseJobs(text: string): number {
  const v = Number(text);
  if (!(Number.isInteger(v) && v >= 1 && v <= 256))
    throw userError('experiment', '--jobs', `expected a number of runs at once from 1 to 256, got '${text}'`);
  return v;
}
