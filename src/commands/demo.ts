/**
 * `dendritic demo`: the bundled default job. MFCC features from the FSDD recordings (data/fsdd), then
 * training with the default parameters, export and verification; prints where the results are.
 * Progress goes to stderr; the paths of the results to stdout.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userError } from '../errors.js';
import { buildFeaturesDirectory, parseFeaturesArgs } from './features.js';
import { trainCommand } from './train.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `dendritic demo --help`. */
export const DEMO_HELP = `Usage: dendritic demo [--out-directory DIR] [training parameters]

Computes MFCC features of the Free Spoken Digit Dataset recordings in data/fsdd (a clone of the
repository; the npm package does not ship them), trains with the default parameters, exports and
verifies the models. Results in DIR/model (default out/demo/model): model files, report.html, report.json,
metrics.jsonl. Any 'dendritic train' parameter may follow (e.g. --epochs 20); see 'dendritic train --help'.
`;

export async function demoCommand(argv: readonly string[]): Promise<number> {
  const outFlag = argv.indexOf('--out-directory');
  if (outFlag >= 0 && (argv[outFlag + 1] === undefined || argv[outFlag + 1]!.startsWith('--'))) {
    throw userError('dendritic demo', '--out-directory', "expected a value after it; see 'dendritic demo --help'");
  }
  const outDir = resolve(outFlag >= 0 ? argv[outFlag + 1]! : 'out/demo');
  const rest = outFlag >= 0 ? [...argv.slice(0, outFlag), ...argv.slice(outFlag + 2)] : [...argv];
  const dataDir = join(outDir, 'data');
  const wavDir = join(REPO_ROOT, 'data', 'fsdd', 'recordings');
  if (!existsSync(join(dataDir, 'X_split_train.npy'))) {
    if (!existsSync(wavDir)) {
      throw userError(wavDir, 'recordings', 'not found: the demo needs a clone of the repository (the npm package does not ship the FSDD recordings)');
    }
    process.stderr.write(`demo: computing MFCC features of ${wavDir} -> ${dataDir}\n`);
    const summary = buildFeaturesDirectory(parseFeaturesArgs(['--wav-dir', wavDir, '--out-directory', dataDir, '--seed', '0']));
    process.stderr.write(`demo: ${JSON.stringify(summary)}\n`);
  }
  const modelDir = join(outDir, 'model');
  const outcome = await trainCommand([
    '--data-directory',
    dataDir,
    '--out-directory',
    modelDir,
    '--info-file',
    join(dataDir, 'train_input.json'),
    ...rest,
  ]);
  process.stdout.write(
    `demo: model files and report in ${modelDir}\n` +
      `  report:  ${join(modelDir, 'report.html')}\n  report.json: ${join(modelDir, 'report.json')}\n  metrics: ${join(modelDir, 'metrics.jsonl')}\n`,
  );
  return outcome.exitCode;
}
