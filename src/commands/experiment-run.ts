/**
 * `dendritic experiment-run --spec FILE --out FILE` (hidden: `experiment` starts it): one planned run of
 * an experiment, as a child process of the sweep runner's backends (local slots or a `dendritic worker`
 * on a queue). Reads the run's spec (data, variant, configuration), trains and scores it exactly as
 * `experiment` always did (runOne), and writes the RunResult as JSON, atomically.
 */
import { readFileSync } from 'node:fs';
import { usageError, parseCommandLine } from '../cli/args.js';
import { UserError } from '../errors.js';
import { runOne, type ExperimentRunSpec } from '../experiment/run.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { loadExperimentData } from './experiment.js';

export const EXPERIMENT_RUN_HELP = `Usage: dendritic experiment-run --spec FILE --out FILE

One run of 'dendritic experiment' (which starts it; not meant to be run by hand): trains the run that
FILE describes, scores it on the hold-out split and writes its result as JSON to --out.
`;

export async function experimentRunCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandLine('experiment-run', argv, { spec: { type: 'string' }, out: { type: 'string' } });
  if (values.spec === undefined) throw usageError('experiment-run', '--spec: missing');
  if (values.out === undefined) throw usageError('experiment-run', '--out: missing');
  let spec: ExperimentRunSpec;
  try {
    spec = JSON.parse(readFileSync(values.spec, 'utf8')) as ExperimentRunSpec;
  } catch (err) {
    throw new UserError(`${values.spec}: spec: cannot be read (${(err as Error).message}): expected the spec an experiment wrote`);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const data = loadExperimentData(spec.dataDirectory, spec.holdoutDirectory ?? undefined, spec.dataSeed, log);
  const result = runOne(data, spec.config, spec.variant);
  writeFileAtomic(values.out, `${JSON.stringify(result)}\n`);
  return 0;
}
