/**
 * The queue seen from outside one coordinator's loop:
 * - `dendritic sweep cancel O`: removes the sweep's trials still waiting on the queue, so that workers
 *   started later (for another sweep) do not run a stopped sweep's trials first; with `--purge`, also
 *   its finished jobs and hyperband milestone values. Trials running on a worker finish (a job a
 *   worker holds cannot be removed); sweep.json is left as it is, so rerunning the same `sweep` command
 *   queues the unfinished trials again.
 * - `watchWorkers`: wraps the queue backend of a running sweep and says, in one line repeated at most
 *   every `repeatMs`, when its trials wait and no worker has taken one for `idleMs`, with how many
 *   workers are connected to the queue (none: start one; some: they are busy with other jobs).
 */
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { Backend } from './backend.js';
import { boundedDrop, QUEUE_NAME, queueProblemReporter, redactUrl, type RedisAddress } from './queue.js';
import { redisOptions } from './redis-url.js';
import type { TrialResult, TrialSpec } from './trial.js';

/** Job states in which a job has not been taken by a worker. */
const NOT_STARTED = ['wait', 'waiting', 'prioritized', 'delayed'] as const;

export interface CancelOutcome {
  /** Trials removed before any worker took them. */
  removed: string[];
  /** Trials a worker is running: they finish. */
  running: string[];
  /** With purge: finished jobs removed, and milestone keys deleted. */
  purgedJobs: number;
  purgedKeys: number;
}

/** The same connection options as the queue's own (credentials, TLS). */
function connection(addr: RedisAddress) {
  return redisOptions(addr);
}

/**
 * The sweep and trial a job names (its data is untrusted: only read here to pick the jobs to remove,
 * never run). Jobs are `{sweepId, trial: {id, ...}}` (signed) or, from before signing, `{sweepId, spec}`.
 */
function sweepOf(job: Job | undefined): string | undefined {
  const d = job?.data as { sweepId?: unknown } | undefined;
  return typeof d?.sweepId === 'string' ? d.sweepId : undefined;
}

function trialOf(job: Job): string {
  const d = job.data as { trial?: { id?: unknown }; spec?: { id?: unknown } } | undefined;
  const id = d?.trial?.id ?? d?.spec?.id;
  return `${sweepOf(job) ?? '?'}/${typeof id === 'string' ? id : job.id}`;
}

/** Removes `sweepId`'s waiting jobs (every sweep's when null) from the queue at `addr`. */
export async function cancelSweepJobs(
  addr: RedisAddress,
  url: string,
  sweepId: string | null,
  opts: { purge: boolean; log(line: string): void },
): Promise<CancelOutcome> {
  const queue = new Queue(QUEUE_NAME, { connection: connection(addr) });
  queue.on('error', queueProblemReporter(redactUrl(url), opts.log));
  const mine = (j: Job | undefined) => j !== undefined && (sweepId === null || sweepOf(j) === sweepId);
  const out: CancelOutcome = { removed: [], running: [], purgedJobs: 0, purgedKeys: 0 };
  try {
    for (const job of (await queue.getJobs([...NOT_STARTED])).filter(mine)) {
      await job.remove();
      out.removed.push(trialOf(job));
    }
    out.removed.sort();
    out.running = (await queue.getJobs(['active'])).filter(mine).map(trialOf).sort();
    if (opts.purge) {
      for (const job of (await queue.getJobs(['completed', 'failed'])).filter(mine)) {
        await job.remove();
        out.purgedJobs++;
      }
      const redis = new Redis(connection(addr));
      try {
        const keys = await redis.keys(`dendritic:${sweepId ?? '*'}:hyperband:*`);
        if (keys.length) out.purgedKeys = await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    }
  } finally {
    await queue.close();
  }
  return out;
}

export interface WatchOptions {
  /** A notice once the sweep's trials have waited this long with none taken (default 60 s). */
  idleMs: number;
  /** How often the notice repeats while nothing changes. */
  repeatMs: number;
  /** How often the queue is looked at. */
  pollMs: number;
}

/** How long trials may wait untaken before the coordinator says so: DENDRITIC_SWEEP_IDLE_S, else 60 s. */
export function idleNoticeMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.DENDRITIC_SWEEP_IDLE_S);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

/** `backend` (a QueueBackend) with a watch that says when no worker takes the sweep's trials. */
export function watchWorkers(
  backend: Backend,
  addr: RedisAddress,
  url: string,
  sweepId: string,
  log: (line: string) => void,
  opts: WatchOptions = { idleMs: idleNoticeMs(), repeatMs: 5 * 60_000, pollMs: 2000 },
): Backend {
  const queue = new Queue(QUEUE_NAME, { connection: connection(addr) });
  // Connection problems are the backend's queue's to report (one line each): this one stays quiet.
  queue.on('error', () => undefined);
  const submitted = new Set<string>();
  let lastProgress = Date.now();
  let lastNotice = -Infinity;
  let noticed = false;
  let busy = false;
  const check = async () => {
    if (busy || submitted.size === 0) return;
    busy = true;
    try {
      const ours = (jobs: Job[]) => jobs.filter((j) => sweepOf(j) === sweepId).length;
      const running = ours(await queue.getJobs(['active']));
      const waiting = ours(await queue.getJobs([...NOT_STARTED]));
      if (running > 0 || waiting === 0) {
        // a trial is running (or none waits): workers are taking them
        lastProgress = Date.now();
        if (noticed && running > 0) log(`queue: a worker is taking this sweep's trials again`);
        if (running > 0) noticed = false;
        return;
      }
      const now = Date.now();
      if (now - lastProgress < opts.idleMs || now - lastNotice < opts.repeatMs) return;
      const workers = await queue.getWorkersCount().catch(() => -1);
      const shown = redactUrl(url);
      const who =
        workers === 0
          ? `no worker is connected to ${shown}: start 'dendritic worker --queue ${shown}' where D and O are at the same paths`
          : workers > 0
            ? `${workers} worker${workers === 1 ? ' is' : 's are'} connected but busy with other jobs (another sweep's? 'dendritic sweep cancel O' removes a stopped sweep's queued trials)`
            : `start 'dendritic worker --queue ${shown}'`;
      log(`queue: no worker has taken a trial of this sweep for ${Math.round((now - lastProgress) / 1000)} s (${waiting} waiting): ${who}`);
      lastNotice = now;
      noticed = true;
    } catch {
      // the queue's own error listener reports connection problems
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), opts.pollMs);
  timer.unref();
  return {
    async submit(spec: TrialSpec) {
      if (submitted.size === 0) lastProgress = Date.now();
      submitted.add(spec.id);
      await backend.submit(spec);
    },
    inFlight: () => backend.inFlight(),
    async next(): Promise<TrialResult> {
      const result = await backend.next();
      submitted.delete(result.id);
      lastProgress = Date.now();
      return result;
    },
    acknowledge: (id) => backend.acknowledge(id),
    abort: () => backend.abort(),
    async close() {
      clearInterval(timer);
      // With Redis gone, close() waits for it for ever: drop the connection after a moment instead.
      let late: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        queue.close().then(
          () => true,
          () => true,
        ),
        new Promise<false>((r) => (late = setTimeout(() => r(false), 1000))),
      ]);
      clearTimeout(late);
      if (!closed) await boundedDrop(() => queue.disconnect());
      await backend.close();
    },
  };
}
