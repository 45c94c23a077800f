/**
 * `dendritic demo`: the bundled default job. MFCC features from the FSDD recordings (data/fsdd), then
 * training with the default parameters, export and verification; prints where the results are.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFeaturesDirectory, parseFeaturesArgs } from '../data/features-command.js';
import { trainCommand } from './train.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function demoCommand(argv: readonly string[]): Promise<number> {
  const outFlag = argv.indexOf('--out-directory');
  const outDir = resolve(outFlag >= 0 && argv[outFlag + 1] ? argv[outFlag + 1]! : 'out/demo');
  const rest = outFlag >= 0 ? [...argv.slice(0, outFlag), ...argv.slice(outFlag + 2)] : [...argv];
  const dataDir = join(outDir, 'data');
  const wavDir = join(REPO_ROOT, 'data', 'fsdd', 'recordings');
  if (!existsSync(join(dataDir, 'X_split_train.npy'))) {
    process.stdout.write(`demo: computing MFCC features of ${wavDir} -> ${dataDir}\n`);
    const summary = buildFeaturesDirectory(parseFeaturesArgs(['--wav-dir', wavDir, '--out-directory', dataDir, '--seed', '0']));
    process.stdout.write(`demo: ${JSON.stringify(summary)}\n`);
  }
  const modelDir = join(outDir, 'model');
  const outcome = await trainCommand([
    '--data-directory', dataDir,
    '--out-directory', modelDir,
    '--info-file', join(dataDir, 'train_input.json'),
    ...rest,
  ]);
  process.stdout.write(
    `\ndemo: model files and report in ${modelDir}\n` +
      `  report:  ${join(modelDir, 'report.html')}\n  metrics: ${join(modelDir, 'report.json')}\n`,
  );
  return outcome.exitCode;
}
