/**
 * Pooled summary of tools/loso/run.sh's folds: reads OUT_DIR/<group>/exp/experiment.json for every fold
 * directory and prints per-fold rows and the pooled paired figures (src/experiment/folds.ts).
 *   node --import tsx tools/loso/summary.ts OUT_DIR
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderFolds, summariseFolds, type Fold } from '../../src/experiment/folds.js';

const dir = process.argv[2];
if (!dir || !existsSync(dir)) {
  console.error('usage: node --import tsx tools/loso/summary.ts OUT_DIR (the directory tools/loso/run.sh wrote)');
  process.exit(2);
}
// A fold whose experiment is still running or was stopped has partial results (complete: false):
// pooling them would pair an incomplete set of seeds, so such a fold is named and left out.
const folds: Fold[] = readdirSync(dir)
  .sort()
  .filter((g) => existsSync(join(dir, g, 'exp', 'experiment.json')))
  .flatMap((g) => {
    const json = JSON.parse(readFileSync(join(dir, g, 'exp', 'experiment.json'), 'utf8'));
    if (json.complete === false) {
      console.error(`${g}: exp/experiment.json is partial (${json.runs_done} of ${json.runs_planned} runs): left out`);
      return [];
    }
    return [{ name: g, runs: json.runs }];
  });
if (folds.length === 0) {
  console.error(`${dir}: no fold has exp/experiment.json yet`);
  process.exit(1);
}
process.stdout.write(renderFolds(summariseFolds(folds)));
