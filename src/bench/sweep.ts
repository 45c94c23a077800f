/**
 * `npm run bench:sweep`: trials per hour of a fixed tiny sweep (12 random trials, 3 epochs on 60 rows,
 * dense network) with 1 and 2 local workers, and the BullMQ queue's overhead per trial: the same sweep
 * through a private redis-server and one `dendritic worker`, against 1 local worker. Not a test: the
 * figures depend on the machine and its load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '../data/npy.js';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const TRIALS = 12;
const CONFIG = `method: random
run_cap: ${TRIALS}
seed: 1
parameters:
  epochs: {value: 3}
  learning-rate: {distribution: log_uniform_values, min: 0.001, max: 0.05}
  width: {values: [0.5, 1, 2]}
  dendrites: {values: [true, false]}
`;

function writeData(dir: string): void {
  mkdirSync(dir, { recursive: true });
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  for (const [split, rows] of [
    ['train', 60],
    ['test', 30],
  ] as const) {
    const x = new Float32Array(rows * 12);
    const y = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      y[i] = i % 3;
      for (let f = 0; f < 12; f++) x[i * 12 + f] = (f % 3 === y[i] ? 1.5 : 0) + rand();
    }
    writeNpy(join(dir, `X_split_${split}.npy`), x, [rows, 12], 'float32');
    writeNpy(join(dir, `Y_split_${split}.npy`), y, [rows], 'int32');
  }
}

function sweep(dir: string, name: string, extra: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [CLI, 'sweep', '--config', join(dir, 'sweep.yaml'), '--data-directory', join(dir, 'data'), '--out-directory', join(dir, name), ...extra],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`sweep ${name} failed: ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dendritic-bench-sweep-'));
  try {
    writeData(join(dir, 'data'));
    writeFileSync(join(dir, 'sweep.yaml'), CONFIG);
    const perHour = (s: number) => Math.round((TRIALS / s) * 3600);
    const one = sweep(dir, 'local1', ['--workers', '1']);
    console.log(`local, 1 worker:   ${TRIALS} trials in ${one.toFixed(1)} s = ${perHour(one)} trials/hour`);
    const two = sweep(dir, 'local2', ['--workers', '2']);
    console.log(`local, 2 workers:  ${TRIALS} trials in ${two.toFixed(1)} s = ${perHour(two)} trials/hour`);
    const port = await freePort();
    mkdirSync(join(dir, 'redis'));
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', join(dir, 'redis')], {
      stdio: 'ignore',
    });
    const ok = await new Promise<boolean>((resolve) => {
      redis.once('error', () => resolve(false));
      setTimeout(() => resolve(true), 500);
    });
    if (!ok) {
      console.log('queue: redis-server not found (Debian: apt-get install redis-server); queue overhead not measured');
      return;
    }
    const url = `redis://127.0.0.1:${port}`;
    const worker = spawn(process.execPath, [CLI, 'worker', '--queue', url], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const queued = sweep(dir, 'queue1', ['--queue', url, '--workers', '2']);
      console.log(`queue, 1 worker:   ${TRIALS} trials in ${queued.toFixed(1)} s = ${perHour(queued)} trials/hour`);
      console.log(
        `queue overhead:    ${(((queued - one) / TRIALS) * 1000).toFixed(0)} ms per trial (queue with 1 worker against 1 local worker, same trials)`,
      );
    } finally {
      worker.kill('SIGKILL');
      redis.kill('SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
