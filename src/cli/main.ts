/**
 * `dendritic <command>`: the commands, their help and their dispatch. Every command answers `--help`/`-h`
 * (on stdout, exit 0, nothing else done); `dendritic --version`/`-v` prints the version; usage mistakes
 * are one line on stderr with exit code 2. Results go to stdout, progress and logs to stderr.
 */
import { UserError } from '../errors.js';
import { hideCredentialsInProcessTitle, redactText } from '../sweep/redis-url.js';
import { parseCommandLine, usageError, wantsHelp } from './args.js';
import { packageVersion } from './version.js';

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The full `--help` text. */
  help(): string | Promise<string>;
  run(argv: readonly string[]): Promise<number>;
  /** Left out of the command list (started by another command, not by hand). */
  hidden?: boolean;
}

export const COMMANDS: readonly Command[] = [
  {
    name: 'train',
    summary: "train, export and verify a model on an Edge Impulse data directory (the block's entry point)",
    help: async () => (await import('../params/parameters-json.js')).renderHelp(),
    run: async (argv) => (await (await import('../commands/train.js')).trainCommand(argv)).exitCode,
  },
  {
    name: 'features',
    summary: 'compute Edge Impulse MFCC features from a folder of WAV files into a data directory',
    help: async () => (await import('../commands/features.js')).FEATURES_HELP,
    run: async (argv) => {
      const { parseFeaturesArgs, buildFeaturesDirectory } = await import('../commands/features.js');
      const summary = buildFeaturesDirectory(parseFeaturesArgs(argv));
      process.stderr.write(`features: split: ${summary.split}\n`);
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return 0;
    },
  },
  {
    name: 'demo',
    summary: 'features + training + export on the bundled FSDD recordings (from a clone of the repository)',
    help: async () => (await import('../commands/demo.js')).DEMO_HELP,
    run: async (argv) => (await import('../commands/demo.js')).demoCommand(argv),
  },
  {
    name: 'predict',
    summary: 'run an exported model (.onnx / .tflite) on X.npy (with Y for accuracy), a WAV file or a folder of WAVs',
    help: async () => (await import('../commands/predict.js')).PREDICT_HELP,
    run: async (argv) => (await import('../commands/predict.js')).predictCommand(argv),
  },
  {
    name: 'experiment',
    summary: 'baseline vs dendritic training at several widths and seeds, scored on a hold-out split',
    help: async () => (await import('../experiment/args.js')).EXPERIMENT_HELP,
    run: async (argv) => (await (await import('../commands/experiment.js')).experimentCommand(argv)).exitCode,
  },
  {
    name: 'experiment-run',
    summary: "one run of an experiment (started by 'experiment' and by 'worker')",
    hidden: true,
    help: async () => (await import('../commands/experiment-run.js')).EXPERIMENT_RUN_HELP,
    run: async (argv) => (await import('../commands/experiment-run.js')).experimentRunCommand(argv),
  },
  {
    name: 'sweep',
    summary: 'hyperparameter sweep (grid, random, bayes; hyperband) of train runs, local or on a Redis queue; sweep best O',
    help: async () => (await import('../commands/sweep.js')).SWEEP_HELP,
    run: async (argv) => (await import('../commands/sweep.js')).sweepCommand(argv),
  },
  {
    name: 'worker',
    summary: 'run sweep trials from a Redis queue (dendritic sweep --queue) until stopped',
    help: async () => (await import('../commands/worker.js')).WORKER_HELP,
    run: async (argv) => (await import('../commands/worker.js')).workerCommand(argv),
  },
  {
    name: 'report',
    summary: 're-render report.html from OUT_DIR/report.json',
    help: () => REPORT_HELP,
    run: async (argv) => {
      const { positionals } = parseCommandLine('report', argv, {}, { min: 1, max: 1, names: 'exactly one OUT_DIR holding report.json' });
      const { rerenderReport } = await import('../commands/report.js');
      process.stdout.write(`${rerenderReport(positionals[0]!)}\n`);
      return 0;
    },
  },
];

const REPORT_HELP = `Usage: dendritic report OUT_DIR

Re-renders OUT_DIR/report.html from OUT_DIR/report.json (e.g. after upgrading dendritic) and prints its path.
`;

export function usage(): string {
  const listed = COMMANDS.filter((c) => !c.hidden);
  const width = Math.max(...listed.map((c) => c.name.length));
  return [
    'Usage: dendritic <command> [options]',
    '',
    'Dendritic optimization for TinyML networks, shipped to microcontrollers through Edge Impulse.',
    '',
    'Commands:',
    ...listed.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'help'.padEnd(width)}  show this list, or a command's help: dendritic help <command>`,
    '',
    'Options:',
    '  -h, --help     show help (also after any command: dendritic train --help)',
    '  -v, --version  print the version',
    '',
    'Results go to stdout; progress, logs and warnings to stderr. Exit codes: 0 success, 2 a usage or',
    'input error (one line naming file/parameter, field and expectation), 1 an internal error or a',
    'failed verification of the exported model; 128+N when stopped by signal N.',
    '',
  ].join('\n');
}

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    throw usageError(
      '',
      `unknown command '${name}': expected ${COMMANDS.filter((c) => !c.hidden)
        .map((c) => c.name)
        .join(', ')}, help or --version`,
    );
  }
  return command;
}

/** Runs the command line (without node and the script); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  if (first === '--help' || first === '-h') {
    process.stdout.write(usage());
    return 0;
  }
  if (first === 'help') {
    if (rest.length === 0) {
      process.stdout.write(usage());
      return 0;
    }
    if (rest.length > 1) throw usageError('help', `expected at most one command name, got ${rest.length}`);
    // `help help` (and `help --help`): help is a command too; its help is the command list.
    if (rest[0] === 'help' || rest[0] === '--help' || rest[0] === '-h') {
      process.stdout.write(usage());
      return 0;
    }
    process.stdout.write(await findCommand(rest[0]!).help());
    return 0;
  }
  if (first.startsWith('-')) throw usageError('', `unknown option '${first}' before the command`);
  const command = findCommand(first);
  if (wantsHelp(rest)) {
    process.stdout.write(await command.help());
    return 0;
  }
  return command.run(rest);
}

/**
 * How long a finished command may take to exit by itself. A Redis client that a library leaves
 * reconnecting (a queue closed while Redis is gone) keeps the event loop alive for ever; a finished
 * command must still exit, with its own code, so a supervisor's SIGTERM is never answered by a hang.
 */
const EXIT_GRACE_MS = 5_000;

/** The process-level wrapper: exit code from `main`, UserError -> one line and 2, anything else -> 1. */
export function runMain(argv: readonly string[]): void {
  hideCredentialsInProcessTitle(); // `ps` shows `redis://USER:***@...`, never a queue password
  main(argv).then(
    (code) => {
      process.exitCode = code;
      setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
    },
    (err: unknown) => {
      if (err instanceof UserError) {
        process.stderr.write(`error: ${redactText(err.message)}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`internal error: ${redactText(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
        process.exitCode = 1;
      }
    },
  );
}
