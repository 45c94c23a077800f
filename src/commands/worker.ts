/** `dendritic worker --queue redis://HOST:PORT`: runs sweep trials from the queue until stopped. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCommandLine, usageError } from '../cli/args.js';

export const WORKER_HELP = `Usage: dendritic worker --queue redis://[USER:PASSWORD@]HOST:PORT [--name NAME] [--root DIR]...

Takes sweep trials from the BullMQ queue in that Redis (put there by 'dendritic sweep --queue URL'),
one at a time, and runs each as a 'dendritic train' child process; the trial's data and out
directories are the paths the sweep gave, so they must be visible here at the same paths. Runs until
stopped: SIGINT/SIGTERM let the running trial finish, a second one kills it (the trial then runs again
on another worker). A worker killed outright loses its trial to another worker the same way.

Every job is checked before it runs: its fields against the job schema and the block's parameters, its
signature against the secret in the sweep's out directory (.queue-secret), which nothing on the queue
knows. A job that fails a check is logged in one line and failed for good, never retried; the trial's
out directory is derived from that verified directory and the trial id. See docs/sweeps.md, Security.

Options:
  --queue URL    redis://[USER[:PASSWORD]@]HOST[:PORT][/DB], rediss://... for TLS; the password may
                 instead be in the environment variable DENDRITIC_QUEUE_PASSWORD (never printed)
  --name NAME    this worker's name in sweep.json (default HOST:PID)
  --root DIR     run only trials of sweeps (and experiments) whose out directory is under DIR
                 (repeatable); default: any directory holding the sweep's secret
`;

export async function workerCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandLine('worker', argv, { queue: { type: 'string' }, name: { type: 'string' }, root: { type: 'string', multiple: true } });
  if (values.queue === undefined) throw usageError('worker', '--queue: missing');
  const { parseQueueUrl, startWorker } = await import('../sweep/queue.js');
  const addr = parseQueueUrl(values.queue);
  const roots = values.root ?? [];
  for (const root of roots) {
    if (!existsSync(root) || !statSync(root).isDirectory()) throw usageError('worker', `--root: got '${root}', expected an existing directory`);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // The handlers come first: a signal that arrives while the worker starts (or just after it says it
  // is waiting) must not meet the default action, which ends the process without closing anything.
  let handle: Awaited<ReturnType<typeof startWorker>> | undefined;
  let signals = 0;
  let code = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    code = signal === 'SIGINT' ? 130 : 143;
    if (!handle) process.exit(code); // no trial yet: nothing to finish
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
  handle = await startWorker(addr, values.queue, log, { label: values.name, roots: roots.map((r) => resolve(r)) });
  await handle.closed;
  return code;
}
