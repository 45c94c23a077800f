/**
 * Distributed trials on BullMQ + Redis. The coordinator adds one job per trial to the queue
 * `dendritic-trials` (job id `<sweep id>-<trial id>`, so adding it again is a no-op); any number of
 * `dendritic worker` processes, on any machine that sees the same paths (data and out directory are
 * passed by path, never copied through the queue), take jobs one at a time and run the trial as a
 * `train` child process. A worker renews its job's lock every LOCK_MS/2; a worker killed mid-trial
 * stops renewing, its trial (the watchdog kills it) and the job, found stalled by another worker's
 * check within LOCK_MS + STALLED_CHECK_MS, goes back to the queue and runs elsewhere. The job's return
 * value is the trial result; the coordinator records it in sweep.json by trial id (once) and only
 * then removes the job, so a coordinator killed in between finds the result again when rerun.
 */
import { hostname } from 'node:os';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { UserError } from '../errors.js';
import type { Backend } from './backend.js';
import type { MilestoneStore } from './hyperband.js';
import { startTrial, type RunningTrial, type TrialResult, type TrialSpec } from './trial.js';

export const QUEUE_NAME = 'dendritic-trials';
/**
 * How long a job's lock lasts without renewal: a dead worker's trial is retried after about this long.
 * Generous, because a renewal missed by a worker that is alive (a machine too busy to run its event
 * loop for LOCK_MS/2) makes BullMQ run the trial a second time; measured: with a 4 s lock on 2 cores
 * shared by several test runs, one sweep test in six saw a trial run twice.
 */
export const LOCK_MS = 15_000;
export const STALLED_CHECK_MS = 5000;
/** A trial may lose its worker this many times before it is recorded as failed. */
export const MAX_STALLS = 5;
const POLL_MS = 200;
/** How long close() waits for BullMQ to close the queue before dropping the connection. */
export const CLOSE_MS = 3000;

export interface JobData {
  sweepId: string;
  spec: TrialSpec;
}

export interface RedisAddress {
  host: string;
  port: number;
  db: number;
}

/** `redis://HOST:PORT[/DB]` -> the connection options; anything else is a usage error. */
export function parseQueueUrl(url: string, option = '--queue'): RedisAddress {
  const m = /^redis:\/\/([^:/\s]+|\[[0-9a-fA-F:]+\])(?::(\d+))?(?:\/(\d+))?\/?$/.exec(url);
  const port = m?.[2] === undefined ? 6379 : Number(m[2]);
  if (!m || port < 1 || port > 65535)
    throw new UserError(`command line: ${option}: got '${url}', expected redis://HOST:PORT (e.g. redis://127.0.0.1:6379)`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, db: m[3] === undefined ? 0 : Number(m[3]) };
}

function connection(addr: RedisAddress) {
  return { host: addr.host, port: addr.port, db: addr.db, maxRetriesPerRequest: null };
}

/** Fails at once with a clear error when Redis does not answer at `addr` (a client that does not retry). */
export async function pingRedis(addr: RedisAddress, url: string): Promise<void> {
  const probe = new Redis({
    host: addr.host,
    port: addr.port,
    db: addr.db,
    lazyConnect: true,
    connectTimeout: 3000,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  // The first socket error (ECONNREFUSED, ...) says more than the "Connection is closed" that follows it.
  const failed = new Promise<never>((_, reject) => probe.once('error', reject));
  failed.catch(() => undefined);
  try {
    await Promise.race([probe.connect().then(() => probe.ping()), failed]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`command line: --queue: cannot reach Redis at ${url} (${e.code ?? e.message}): expected a running redis-server`);
  } finally {
    probe.disconnect();
  }
}

export function jobId(sweepId: string, trial: string): string {
  return `${sweepId}-${trial}`;
}

/** The part of BullMQ's Queue the coordinator uses (a test stands in for it to replay a race). */
export type TrialQueue = Pick<Queue, 'add' | 'getJob' | 'getJobState' | 'close' | 'disconnect'>;

/** How often a connection problem that goes on is reported again. */
export const PROBLEM_REPEAT_MS = 30_000;

/**
 * One line per connection problem, repeated at most every PROBLEM_REPEAT_MS while it goes on: BullMQ
 * retries a lost Redis for ever and, without a listener, prints every failed attempt as a stack.
 */
export function queueProblemReporter(url: string, log: (line: string) => void, now: () => number = Date.now): (err: Error) => void {
  const last = new Map<string, number>();
  return (err) => {
    // A socket error (it has an errno code) is Redis not answering; anything else is BullMQ's to say.
    const code = (err as NodeJS.ErrnoException).code;
    const what = code ?? err.message;
    const at = now();
    if (at - (last.get(what) ?? -Infinity) < PROBLEM_REPEAT_MS) return;
    last.set(what, at);
    log(code ? `queue: Redis at ${url}: ${code}; retrying until it answers (SIGINT/SIGTERM stops; a rerun continues)` : `queue error: ${err.message}`);
  };
}

export class QueueBackend implements Backend {
  private readonly queue: TrialQueue;
  private readonly waiting = new Set<string>();
  private readonly url: string;

  constructor(
    addr: RedisAddress,
    private readonly sweepId: string,
    opts: { queue?: TrialQueue; url?: string; log?: (line: string) => void } = {},
  ) {
    this.url = opts.url ?? `redis://${addr.host}:${addr.port}`;
    if (opts.queue) this.queue = opts.queue;
    else {
      const queue = new Queue(QUEUE_NAME, { connection: connection(addr) });
      queue.on('error', queueProblemReporter(this.url, opts.log ?? ((line) => process.stderr.write(`${line}\n`))));
      this.queue = queue;
    }
  }

  async submit(spec: TrialSpec): Promise<void> {
    const id = jobId(this.sweepId, spec.id);
    this.waiting.add(spec.id);
    const existing = await this.queue.getJob(id);
    if (existing) return; // queued, running or finished: await it
    const data: JobData = { sweepId: this.sweepId, spec };
    await this.queue.add('trial', data, { jobId: id, attempts: 2, removeOnComplete: false, removeOnFail: false });
  }

  inFlight(): number {
    return this.waiting.size;
  }

  async next(): Promise<TrialResult> {
    for (;;) {
      for (const trial of this.waiting) {
        const result = await this.finished(trial);
        if (result) {
          this.waiting.delete(trial);
          return result;
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** A queue that lost a job lost it with Redis's data: what to do is rerun, which queues it again. */
  private gone(trial: string): UserError {
    return new UserError(
      `${this.url}: job ${jobId(this.sweepId, trial)}: gone from the queue (Redis restarted without its data?): expected it queued until its result is recorded; rerun the same command to queue the unfinished trials again`,
    );
  }

  /**
   * The trial's result once its job is completed or finally failed, else null. The state is read
   * before the job: a job read first and found completed a moment later carries the return value of
   * its earlier snapshot (none; BullMQ's null), which once ended a resumed sweep early as if the
   * queue were drained. Completed and failed are terminal, so the job read afterwards is final.
   */
  private async finished(trial: string): Promise<TrialResult | null> {
    const id = jobId(this.sweepId, trial);
    const state = await this.queue.getJobState(id);
    if (state !== 'completed' && state !== 'failed') {
      if (state === 'unknown') throw this.gone(trial);
      return null;
    }
    const job = await this.queue.getJob(id);
    if (!job) throw this.gone(trial);
    if (state === 'completed') {
      const result = job.returnvalue as TrialResult | null;
      if (result?.id !== trial) throw new Error(`queue: job ${id} completed without its trial's result (return value ${JSON.stringify(result)})`);
      return result;
    }
    const spec = (job.data as JobData).spec;
    return {
      id: trial,
      params: spec.params,
      status: 'failed',
      metrics: null,
      deployment: null,
      epochs: null,
      seconds: job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0,
      worker: 'queue',
      out: spec.outDirectory,
      error: job.failedReason,
    };
  }

  async acknowledge(id: string): Promise<void> {
    const job = await this.queue.getJob(jobId(this.sweepId, id));
    await job?.remove().catch(() => undefined);
  }

  abort(): void {}

  /** Closes the queue; with Redis gone, a sweep stopped by SIGTERM during an outage must still exit. */
  async close(): Promise<void> {
    await closeWithin(this.queue.close(), () => this.queue.disconnect());
  }
}

/**
 * Waits up to CLOSE_MS for a BullMQ close, then drops the connection instead: with Redis gone, close()
 * waits for it for ever.
 */
async function closeWithin(closing: Promise<unknown>, drop: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_MS)));
  try {
    if ((await Promise.race([closing.catch(() => undefined), late])) === 'late') await drop();
  } finally {
    clearTimeout(timer);
  }
}

/** Hyperband's milestone values in Redis (one hash per sweep and milestone), shared by all workers. */
export class RedisMilestones implements MilestoneStore {
  constructor(
    private readonly redis: Redis,
    private readonly sweepId: string,
  ) {}
  async record(milestone: number, trial: string, value: number): Promise<number[]> {
    const key = `dendritic:${this.sweepId}:hyperband:${milestone}`;
    await this.redis.hset(key, trial, String(value));
    return (await this.redis.hvals(key)).map(Number);
  }
}

export interface WorkerHandle {
  label: string;
  /** Resolves when the worker has stopped. */
  closed: Promise<void>;
  /** Takes no further trial; the running one finishes first. */
  stop(): Promise<void>;
  /** Kills the running trial (before the process exits: its job then stalls and is retried elsewhere). */
  killTrial(): void;
}

/** A `dendritic worker`: takes trials from the queue, one at a time, until stopped. */
export async function startWorker(
  addr: RedisAddress,
  url: string,
  log: (line: string) => void,
  label = `${hostname()}:${process.pid}`,
): Promise<WorkerHandle> {
  await pingRedis(addr, url);
  const redis = new Redis(connection(addr));
  let current: RunningTrial | undefined;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      const { sweepId, spec } = job.data as JobData;
      const running = startTrial(spec, label, spec.pruning ? new RedisMilestones(redis, sweepId) : null);
      current = running;
      log(`trial ${spec.id} of sweep ${sweepId} started (train pid ${running.pid}, attempt ${job.attemptsStarted})`);
      const result = await running.result;
      current = undefined;
      log(
        `trial ${spec.id} ${result.status}${result.metrics?.accuracy != null ? `: accuracy ${result.metrics.accuracy.toFixed(4)}` : ''} (${result.seconds.toFixed(1)} s)`,
      );
      return result;
    },
    { connection: connection(addr), concurrency: 1, lockDuration: LOCK_MS, stalledInterval: STALLED_CHECK_MS, maxStalledCount: MAX_STALLS },
  );
  const problem = queueProblemReporter(url, log);
  worker.on('error', problem);
  redis.on('error', problem);
  await worker.waitUntilReady();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  log(`worker ${label} waiting for trials on ${url}`);
  return {
    label,
    closed,
    stop: async () => {
      const closing = worker.close(); // takes no new trial from here on
      await current?.result; // the running trial finishes first (a second signal kills it)
      await closeWithin(closing, () => worker.disconnect());
      redis.disconnect();
      resolveClosed();
    },
    killTrial: () => current?.kill(),
  };
}
