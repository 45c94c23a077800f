/** Shared by the sweep tests: the tiny sweep, a private redis-server, workers, reading sweep.json. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startCli, waitForExit, waitForOutput, writeEiDirectory, type CliResult } from '../helpers/ei-data.js';
import type { SweepFile } from '../../src/sweep/state.js';

/** 20 random trials of ~1 s each: 3 epochs on 60 rows; learning rate, width, optimizer and dendrites vary. */
export const TWENTY_TRIALS = `# the done-when sweep of issue 17
method: random
run_cap: 20
seed: 7
metric: {name: accuracy, goal: maximize}
parameters:
  epochs: {value: 3}
  learning-rate: {distribution: log_uniform_values, min: 0.0005, max: 0.05}
  width: {values: [0.5, 1, 2]}
  optimizer: {values: [adam, sgd]}
  dendrites: {values: [true, false]}
`;

export function writeSweepFixture(dir: string, config = TWENTY_TRIALS): { data: string; config: string } {
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  writeEiDirectory(data, { trainRows: 60, valRows: 30, seed: 3 });
  const path = join(dir, 'sweep.yaml');
  writeFileSync(path, config);
  return { data, config: path };
}

export function readSweep(out: string): SweepFile {
  return JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8')) as SweepFile;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A redis-server of our own on a free loopback port, in a temporary dir, without persistence. */
export async function startRedis(dir: string, extra: readonly string[] = []): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra];
  const child: ChildProcess = spawn('redis-server', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${seen}`)), 10_000);
    child.once('error', (err) => reject(new Error(`redis-server could not be started (Debian: apt-get install redis-server): ${err.message}`)));
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/Ready to accept connections/.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('close', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Whether a process is gone (or a zombie nobody reaped yet). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** `dendritic worker` processes on `url`, one per name, each ready (listening for trials) when this resolves. */
export async function startWorkers(
  url: string,
  names: readonly string[],
  extra: readonly string[] = [],
): Promise<{ procs: ChildProcess[]; exits: Promise<CliResult>[] }> {
  const procs = names.map((name) => startCli(['worker', '--queue', url, '--name', name, ...extra]));
  const exits = procs.map((p) => waitForExit(p));
  await Promise.all(procs.map((p) => waitForOutput(p, /waiting for trials/)));
  return { procs, exits };
}

/** A trial hyperband stopped at `milestone` of `epochs`: its train run ended by the signal, its figures its own report's. */
export function assertPrunedAt(out: string, t: SweepFile['trials'][number], milestone: number, epochs: number): void {
  assert.equal(t.status, 'pruned', `${t.id}: ${t.status}`);
  assert.equal(t.pruned_at_epoch, milestone);
  assert.ok(t.epochs! >= milestone && t.epochs! < epochs, `${t.id} trained ${t.epochs} epochs`);
  const report = JSON.parse(readFileSync(join(out, t.out, 'report.json'), 'utf8')) as { timing: { stopped_by: string }; validation: { accuracy: number } };
  assert.equal(report.timing.stopped_by, 'signal');
  assert.equal(t.metrics!.accuracy, report.validation.accuracy);
}
