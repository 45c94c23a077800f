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
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { UserError } from '../errors.js';
import type { Backend } from './backend.js';
import type { MilestoneStore } from './hyperband.js';
import {
  JobRefused,
  loadOrCreateSecret,
  printable,
  readSecret,
  signedJobId,
  signJob,
  signResult,
  validateJob,
  verifiedSpec,
  verifyResult,
  type JobData,
} from './job-schema.js';
import { redactText, redactUrl, redisOptions, type RedisAddress } from './redis-url.js';
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

export type { RedisAddress } from './redis-url.js';
export { parseQueueUrl, redactUrl } from './redis-url.js';

function connection(addr: RedisAddress) {
  return redisOptions(addr);
}

/** Fails at once with a clear error when Redis does not answer at `addr` (a client that does not retry). */
export async function pingRedis(addr: RedisAddress, url: string): Promise<void> {
  const probe = new Redis({
    ...redisOptions(addr),
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
    const why = redactText(e.code ?? e.message, addr.password ? [addr.password] : []);
    if (/NOAUTH|WRONGPASS|NOPERM|AUTH/.test(why))
      throw new UserError(
        `command line: --queue: Redis at ${redactUrl(url)} refused the credentials (${why}): expected redis://USER:PASSWORD@HOST:PORT of a user allowed the queue's keys`,
      );
    throw new UserError(`command line: --queue: cannot reach Redis at ${redactUrl(url)} (${why}): expected a running redis-server`);
  } finally {
    probe.disconnect();
  }
}

/** The job id of a trial up to its MAC prefix (signedJobId adds it). */
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
export function queueProblemReporter(rawUrl: string, log: (line: string) => void, now: () => number = Date.now): (err: Error) => void {
  const url = redactUrl(rawUrl);
  const last = new Map<string, number>();
  return (err) => {
    // A socket error (it has an errno code) is Redis not answering; anything else is BullMQ's to say.
    const code = (err as NodeJS.ErrnoException).code;
    const what = code ?? err.message;
    const at = now();
    if (at - (last.get(what) ?? -Infinity) < PROBLEM_REPEAT_MS) return;
    last.set(what, at);
    log(
      code
        ? `queue: Redis at ${url}: ${code}; retrying until it answers (SIGINT/SIGTERM stops; a rerun continues)`
        : `queue error: ${redactText(err.message)}`,
    );
  };
}

export class QueueBackend implements Backend {
  private readonly queue: TrialQueue;
  /** The trials awaited, each with its signed job (its id carries the job's MAC). */
  private readonly waiting = new Map<string, { spec: TrialSpec; job: JobData; id: string }>();
  private readonly url: string;
  private readonly log: (line: string) => void;
  private readonly secrets = new Map<string, Buffer>();
  /** Job ids of trials returned by next() and not yet acknowledged. */
  private readonly returned = new Map<string, string>();

  constructor(
    addr: RedisAddress,
    private readonly sweepId: string,
    opts: { queue?: TrialQueue; url?: string; log?: (line: string) => void } = {},
  ) {
    this.url = redactUrl(opts.url ?? `redis://${addr.host}:${addr.port}`);
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
    if (opts.queue) this.queue = opts.queue;
    else {
      const queue = new Queue(QUEUE_NAME, { connection: connection(addr) });
      queue.on('error', queueProblemReporter(this.url, this.log));
      this.queue = queue;
    }
  }

  /** The sweep's secret, in the directory its trials run under (created with the first job). */
  private secret(dir: string): Buffer {
    let secret = this.secrets.get(dir);
    if (!secret) this.secrets.set(dir, (secret = loadOrCreateSecret(dir)));
    return secret;
  }

  async submit(spec: TrialSpec): Promise<void> {
    const job = signJob(this.secret(spec.sweepDirectory), this.sweepId, spec);
    const id = signedJobId(job);
    this.waiting.set(spec.id, { spec, job, id });
    const existing = await this.queue.getJob(id);
    if (existing) return; // queued, running or finished: await it
    await this.enqueue(id, job);
  }

  private async enqueue(id: string, job: JobData): Promise<void> {
    await this.queue.add('trial', job, { jobId: id, attempts: 2, removeOnComplete: false, removeOnFail: false });
  }

  inFlight(): number {
    return this.waiting.size;
  }

  async next(): Promise<TrialResult> {
    for (;;) {
      for (const trial of this.waiting.keys()) {
        const result = await this.finished(trial);
        if (result) {
          this.returned.set(trial, this.waiting.get(trial)!.id);
          this.waiting.delete(trial);
          return result;
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** A queue that lost a job lost it with Redis's data: what to do is rerun, which queues it again. */
  private gone(trial: string): UserError {
    const id = this.waiting.get(trial)?.id ?? jobId(this.sweepId, trial);
    return new UserError(
      `${this.url}: job ${id}: gone from the queue (Redis restarted without its data?): expected it queued until its result is recorded; rerun the same command to queue the unfinished trials again`,
    );
  }

  /**
   * The trial's result once its job is completed or finally failed, else null. The state is read
   * before the job: a job read first and found completed a moment later carries the return value of
   * its earlier snapshot (none; BullMQ's null), which once ended a resumed sweep early as if the
   * queue were drained. Completed and failed are terminal, so the job read afterwards is final.
   * A completed job whose result does not verify (not signed with the sweep's secret, another trial's,
   * other parameters) is not this sweep's: it is named in one line, removed and the trial queued again.
   */
  private async finished(trial: string): Promise<TrialResult | null> {
    const w = this.waiting.get(trial)!;
    const state = await this.queue.getJobState(w.id);
    if (state !== 'completed' && state !== 'failed') {
      if (state === 'unknown') throw this.gone(trial);
      return null;
    }
    const job = await this.queue.getJob(w.id);
    if (!job) throw this.gone(trial);
    const out = w.spec.outDirectory.startsWith(`${w.spec.sweepDirectory}/`)
      ? w.spec.outDirectory.slice(w.spec.sweepDirectory.length + 1)
      : w.spec.outDirectory;
    if (state === 'completed') {
      if (job.returnvalue === null || job.returnvalue === undefined)
        throw new Error(`queue: job ${w.id} completed without its trial's result (return value ${JSON.stringify(job.returnvalue)})`);
      const verified = verifyResult(this.secret(w.spec.sweepDirectory), this.sweepId, trial, w.spec.params, job.returnvalue);
      if (typeof verified === 'string') {
        this.log(`queue: job ${w.id}: ${verified}: not recorded (a job this sweep did not run); queued again`);
        await job.remove().catch(() => undefined); // gone already, or locked: the add below is then a no-op and the next poll looks again
        await this.enqueue(w.id, w.job);
        return null;
      }
      // The sweep's own parameters and out directory, whatever the result says.
      return { ...verified, id: trial, params: w.spec.params, out };
    }
    return {
      id: trial,
      params: w.spec.params,
      status: 'failed',
      metrics: null,
      deployment: null,
      epochs: null,
      seconds: job.finishedOn && job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : 0,
      worker: 'queue',
      out,
      error: printable(job.failedReason ?? 'failed on the queue', 500),
    };
  }

  async acknowledge(id: string): Promise<void> {
    const jid = this.returned.get(id);
    this.returned.delete(id);
    if (jid === undefined) return;
    const job = await this.queue.getJob(jid);
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
    if ((await Promise.race([closing.catch(() => undefined), late])) === 'late') await boundedDrop(drop);
  } finally {
    clearTimeout(timer);
  }
}

/** Dropping a connection can itself wait on a client that never reconnects: it gets CLOSE_MS too, then the close goes on without it. */
export async function boundedDrop(drop: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_MS)));
  try {
    await Promise.race([drop().catch(() => undefined), late]);
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

export interface WorkerOptions {
  /** This worker's name in sweep.json (default HOST:PID). */
  label?: string;
  /**
   * Directories the sweeps this worker serves live under (its own configuration): a job naming a sweep
   * directory elsewhere is refused before anything is read there. Empty: any directory that holds the
   * sweep's secret.
   */
  roots?: readonly string[];
}

/** Whether `dir` (resolved through links) lies under one of `roots`. */
function underRoots(dir: string, roots: readonly string[]): boolean {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return false;
  }
  return roots.some((root) => real === root || real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`));
}

/**
 * A job, checked: well-formed (job-schema.ts), under the worker's roots, signed with the secret of the
 * sweep directory it names. Anything else throws JobRefused.
 */
export function acceptJob(job: Pick<Job, 'id' | 'data'>, roots: readonly string[]): { data: JobData; spec: TrialSpec; secret: Buffer } {
  const data = validateJob(job.id, job.data);
  const dir = data.trial.sweepDirectory;
  if (roots.length > 0 && !underRoots(dir, roots))
    throw new JobRefused(`trial.sweepDirectory: ${printable(dir)} is not under this worker's --root (${roots.join(', ')})`);
  const secret = readSecret(
    dir,
    (why) => new JobRefused(`trial.sweepDirectory: ${printable(dir)}: no sweep secret there (${why}): a job no sweep of ours queued`),
  );
  return { data, spec: verifiedSpec(data, secret), secret };
}

/** A `dendritic worker`: takes trials from the queue, one at a time, until stopped. */
export async function startWorker(addr: RedisAddress, url: string, log: (line: string) => void, opts: WorkerOptions = {}): Promise<WorkerHandle> {
  const label = opts.label ?? `${hostname()}:${process.pid}`;
  const roots = (opts.roots ?? []).map((r) => realpathSync(r));
  await pingRedis(addr, url);
  const redis = new Redis(connection(addr));
  let current: RunningTrial | undefined;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      let accepted: ReturnType<typeof acceptJob>;
      try {
        accepted = acceptJob(job, roots);
      } catch (err) {
        // A job anyone could have put there: one line, failed for good (never retried on another worker).
        const why = err instanceof JobRefused ? err.message : `internal error: ${(err as Error).message}`;
        log(`job ${printable(job.id, 80)} refused: ${why}; failed, not retried`);
        throw new UnrecoverableError(`refused by worker ${label}: ${why}`);
      }
      const { data, spec, secret } = accepted;
      const running = startTrial(spec, label, spec.pruning ? new RedisMilestones(redis, data.sweepId) : null);
      current = running;
      log(`trial ${spec.id} of sweep ${data.sweepId} started (train pid ${running.pid}, attempt ${job.attemptsStarted})`);
      const result = await running.result;
      current = undefined;
      log(
        `trial ${spec.id} ${result.status}${result.metrics?.accuracy != null ? `: accuracy ${result.metrics.accuracy.toFixed(4)}` : ''} (${result.seconds.toFixed(1)} s)`,
      );
      return signResult(secret, data.sweepId, result);
    },
    { connection: connection(addr), concurrency: 1, lockDuration: LOCK_MS, stalledInterval: STALLED_CHECK_MS, maxStalledCount: MAX_STALLS },
  );
  const problem = queueProblemReporter(url, log);
  worker.on('error', problem);
  redis.on('error', problem);
  await worker.waitUntilReady();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  log(`worker ${label} waiting for trials on ${redactUrl(url)}${roots.length ? ` (sweeps under ${roots.join(', ')})` : ''}`);
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
