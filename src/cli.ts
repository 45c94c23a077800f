#!/usr/bin/env node
/**
 * Command-line entry point. `train` is the Edge Impulse block's ENTRYPOINT.
 * Exit codes: 0 success, 2 a user error (bad input or parameters, one line naming file/field/expectation),
 * 1 an internal error or a failed verification of the exported model.
 */
import { UserError } from './errors.js';
import { renderHelp } from './params/parameters-json.js';

const USAGE = `dendritic <command> [options]

Commands:
  train       train, export and verify a model on an Edge Impulse data directory
              (--data-directory DIR --out-directory DIR [--info-file train_input.json] [parameters])
  features    compute Edge Impulse MFCC features from a folder of WAV files into a data directory
              (--wav-dir DIR --out-directory DIR [options])
  demo        features + training + export on the bundled FSDD recordings
  predict     run an exported model (.onnx / .tflite) on X.npy, a WAV file or a folder of WAV files
  experiment  baseline vs dendritic training at several widths and seeds
              (--data-directory DIR [--holdout-directory DIR] [--widths 0.5,1] [--plain-widths 1.25,2]
               [--seeds N] [--modes gd,correlation,frozen,restarts] [--jobs N] [parameters])
  report      re-render report.html from OUT_DIR/report.json

'dendritic train --help' lists every training parameter.
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'train': {
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write(renderHelp());
        return 0;
      }
      const { trainCommand } = await import('./commands/train.js');
      return (await trainCommand(rest)).exitCode;
    }
    case 'features': {
      const { parseFeaturesArgs, buildFeaturesDirectory } = await import('./data/features-command.js');
      const summary = buildFeaturesDirectory(parseFeaturesArgs(rest));
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return 0;
    }
    case 'demo': {
      const { demoCommand } = await import('./commands/demo.js');
      return demoCommand(rest);
    }
    case 'predict': {
      const { predictCommand } = await import('./commands/predict.js');
      return predictCommand(rest);
    }
    case 'experiment': {
      const { experimentCommand } = await import('./commands/experiment.js');
      return (await experimentCommand(rest)).exitCode;
    }
    case 'report': {
      const { rerenderReport } = await import('./report/write.js');
      if (rest.length !== 1) throw new UserError('report: OUT_DIR: expected exactly one out directory holding report.json');
      process.stdout.write(`${rerenderReport(rest[0]!)}\n`);
      return 0;
    }
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UserError(`dendritic: command: unknown command '${command}'; expected train, features, demo, predict, experiment or report`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
