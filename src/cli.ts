#!/usr/bin/env node
/** Command-line entry point. `train` is the Edge Impulse block's ENTRYPOINT. */
const USAGE = `dendritic <command> [options]

Commands:
  train      train, export and verify a model on an Edge Impulse data directory
  features   compute Edge Impulse MFCC features from a folder of WAV files
  demo       features + training + export on the bundled FSDD recordings
  predict    run an exported model on features or audio
  experiment baseline vs dendritic training at several widths
  report     re-render report.html from report.json
`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  process.stderr.write(`dendritic: unknown command '${command}'\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
