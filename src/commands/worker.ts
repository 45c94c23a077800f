/** `dendritic worker --queue redis://HOST:PORT`: runs sweep trials from the queue until stopped. */
import { parseCommandLine, usageError } from '../cli/args.js';

export const WORKER_HELP = `Usage: dendritic worker --queue redis://HOST:PORT [--name NAME]

Takes sweep trials from the BullMQ queue in that Redis (put there by 'dendritic sweep --queue URL'),
one at a time, and runs each as a 'dendritic train' child process; the trial's data and out
directories are the paths the sweep gave, so they must be visible here at the same paths. Runs until
stopped: SIGINT/SIGTERM let the running trial finish, a second one kills it (the trial then runs again
on another worker). A worker killed outright loses its trial to another worker the same way.

Options:
  --queue URL    redis://HOST:PORT[/DB]
  --name NAME    this worker's name in sweep.json (default HOST:PID)
`;

export async function workerCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandLine('worker', argv, { queue: { type: 'string' }, name: { type: 'string' } });
  if (values.queue === undefined) throw usageError('worker', '--queue: missing');
  const { parseQueueUrl, startWorker } = await import('../sweep/queue.js');
  const addr = parseQueueUrl(values.queue);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const handle = await startWorker(addr, values.queue, log, values.name);
  let signals = 0;
  let code = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    code = signal === 'SIGINT' ? 130 : 143;
    if (signals === 1) {
      log(`${signal}: finishing the running trial, taking no new one (again to stop at once)`);
      void handle.stop();
    } else {
      handle.killTrial();
      process.exit(code);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await handle.closed;
  return code;
}
