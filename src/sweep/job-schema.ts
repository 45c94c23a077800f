/**
 * A queue job is untrusted input: anything that reaches Redis can add, change or complete jobs. This is
 * what makes the queue safe anyway (docs/sweeps.md, "Security"):
 * - every sweep (and queued experiment) has a secret, a random key kept in its out directory
 *   (`.queue-secret`, mode 0600) and never put on the queue;
 * - the coordinator signs each job (HMAC-SHA256 over the sweep id and the trial: id, kind, parameters,
 *   data and sweep directories, pruning); the job id carries a prefix of that MAC, so nobody without
 *   the secret can take a trial's job id ahead of the coordinator;
 * - a worker checks every job against the schema below, reads the secret from the directory the job
 *   names (a regular file, never a link) and refuses a job whose MAC does not verify; the trial's out
 *   directory is derived from that verified directory and the trial id, never read from the job;
 * - the worker signs its result with the same secret, and the coordinator records only a result that
 *   verifies, for a trial it proposed, with the parameters it proposed.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, writeSync, fsyncSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import { UserError } from '../errors.js';
import { parseValue } from '../params/values.js';
import { blockParameter, type Params, type ParamValue } from './config.js';
import type { TrialResult, TrialSpec } from './trial.js';

export const JOB_SCHEMA = 1;
export const SECRET_FILE = '.queue-secret';
/** A job's data larger than this (JSON) is refused unread. */
export const MAX_JOB_BYTES = 64 * 1024;
const MAX_PATH = 4096;
const MAX_PARAMS = 64;
const MAX_MILESTONES = 64;

/** The part of a trial the coordinator signs and a worker runs; the out directory is derived, not sent. */
export interface SignedTrial {
  id: string;
  kind: 'train' | 'experiment-run';
  params: Params;
  dataDirectory: string;
  sweepDirectory: string;
  pruning: TrialSpec['pruning'];
}

export interface JobData {
  v: typeof JOB_SCHEMA;
  sweepId: string;
  trial: SignedTrial;
  /** HMAC-SHA256 (hex) of canonical({sweepId, trial}) under the sweep's secret. */
  mac: string;
}

/** A refused job: the worker fails it for good (no retry) and logs this one line. */
export class JobRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobRefused';
  }
}

/** JSON with object keys sorted at every level: the bytes a MAC is computed over. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function mac(secret: Buffer, what: 'job' | 'result', value: unknown): string {
  return createHmac('sha256', secret).update(`dendritic-${what}\n`).update(canonicalJson(value)).digest('hex');
}

export function macEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The out directory of a trial: a sweep's `trials/<id>`, an experiment's `<id>`, under the verified directory. */
export function trialOutDirectory(trial: Pick<SignedTrial, 'id' | 'kind' | 'sweepDirectory'>): string {
  return trial.kind === 'experiment-run' ? join(trial.sweepDirectory, trial.id) : join(trial.sweepDirectory, 'trials', trial.id);
}

/** The job id of a trial: the sweep id, the trial id and 16 hex digits of the job's MAC. */
export function signedJobId(data: Pick<JobData, 'sweepId' | 'trial' | 'mac'>): string {
  return `${data.sweepId}-${data.trial.id}-${data.mac.slice(0, 16)}`;
}

/** The coordinator's signed job for a trial. */
export function signJob(secret: Buffer, sweepId: string, spec: TrialSpec): JobData {
  const trial: SignedTrial = {
    id: spec.id,
    kind: spec.kind ?? 'train',
    params: spec.params,
    dataDirectory: spec.dataDirectory,
    sweepDirectory: spec.sweepDirectory,
    pruning: spec.pruning,
  };
  return { v: JOB_SCHEMA, sweepId, trial, mac: mac(secret, 'job', { sweepId, trial }) };
}

/** A result as a worker returns it: signed with the sweep's secret. */
export type SignedResult = TrialResult & { mac: string };

export function signResult(secret: Buffer, sweepId: string, result: TrialResult): SignedResult {
  const plain = JSON.parse(JSON.stringify(result)) as TrialResult; // what Redis will hand back
  return { ...plain, mac: mac(secret, 'result', { sweepId, result: plain }) };
}

/**
 * The result a completed job returned, if it is this sweep's worker's result for this trial with these
 * parameters; else why not (a forged or replayed return value).
 */
export function verifyResult(secret: Buffer, sweepId: string, trial: string, params: Params, value: unknown): TrialResult | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `its return value is ${value === null ? 'null' : typeof value}`;
  const { mac: given, ...result } = value as Record<string, unknown>;
  if (typeof given !== 'string' || !macEqual(given, mac(secret, 'result', { sweepId, result })))
    return "its result is not signed with this sweep's secret";
  const r = result as unknown as TrialResult;
  if (r.id !== trial) return `its result is trial ${String(r.id)}'s`;
  if (canonicalJson(r.params) !== canonicalJson(params)) return 'its result has other parameters than the sweep proposed';
  if (!['completed', 'failed', 'pruned'].includes(r.status)) return `its result's status is ${String(r.status)}`;
  return r;
}

/** Creates the directory's secret (32 random bytes, hex, mode 0600) unless it has one; returns it. */
export function loadOrCreateSecret(dir: string): Buffer {
  const path = join(dir, SECRET_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new UserError(`${path}: queue secret: cannot be created (${(err as NodeJS.ErrnoException).code}): expected a writable out directory`);
    }
    return readSecret(
      dir,
      (why) => new UserError(`${path}: queue secret: ${why}: expected the file this sweep wrote; delete it to start the sweep's jobs afresh`),
    );
  }
  try {
    writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return readSecret(dir, (why) => new UserError(`${path}: queue secret: ${why}`));
}

/**
 * Reads a directory's secret without trusting the directory: a regular file of 64 hex digits, owned by
 * this user, not a link (a FIFO or device never blocks the reader: it is refused before it is read).
 */
export function readSecret(dir: string, fail: (why: string) => Error): Buffer {
  const path = join(dir, SECRET_FILE);
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  if (!st.isFile()) throw fail('not a regular file');
  if (st.size > 128) throw fail(`${st.size} bytes`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code})`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw fail('not a regular file');
    const buf = Buffer.alloc(129);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw fail('not 64 hex digits');
    return Buffer.from(text, 'hex');
  } finally {
    closeSync(fd);
  }
}

/** One line for a log: printable, at most `max` characters. */
export function printable(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

/** A value as an error shows it: JSON (strings quoted), printable, short. */
function got(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return printable(text);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, field: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new JobRefused(`${field}.${printable(k, 40)}: unknown key: expected ${allowed.join(', ')}`);
}

function directory(v: unknown, field: string): string {
  if (
    typeof v !== 'string' ||
    v.length < 2 ||
    v.length > MAX_PATH ||
    v.includes('\0') ||
    !isAbsolute(v) ||
    normalize(v) !== v ||
    v.endsWith('/') ||
    /[\n\r]/.test(v)
  )
    throw new JobRefused(`${field}: got ${got(v)}, expected an absolute, normalised path (no '..') of at most ${MAX_PATH} characters`);
  return v;
}

function params(v: unknown, kind: SignedTrial['kind']): Params {
  if (!isPlainObject(v)) throw new JobRefused(`trial.params: got ${got(v)}, expected an object of block parameters`);
  const keys = Object.keys(v);
  if (kind === 'experiment-run' && keys.length > 0) throw new JobRefused('trial.params: expected none for an experiment run');
  if (keys.length > MAX_PARAMS) throw new JobRefused(`trial.params: ${keys.length} parameters, expected at most ${MAX_PARAMS}`);
  const out: Params = {};
  for (const key of keys) {
    const spec = blockParameter(key);
    if (!spec || spec.param !== key) throw new JobRefused(`trial.params.${printable(key, 40)}: unknown: expected a block parameter`);
    const value = v[key];
    if (!(typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') || (typeof value === 'string' && value.length > 1024))
      throw new JobRefused(`trial.params.${key}: got ${got(value)}, expected a number, string or boolean`);
    try {
      parseValue(spec, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      throw new JobRefused(`trial.params.${key}: ${err.message.replace(/^command line: --[\w-]+: /, '')}`);
    }
    out[key] = value as ParamValue;
  }
  return out;
}

function pruning(v: unknown): SignedTrial['pruning'] {
  if (v === null) return null;
  if (!isPlainObject(v)) throw new JobRefused(`trial.pruning: got ${got(v)}, expected null or {milestones, eta, goal, metric, strict?}`);
  onlyKeys(v, 'trial.pruning', ['milestones', 'eta', 'goal', 'metric', 'strict']);
  const m = v.milestones;
  if (
    !Array.isArray(m) ||
    m.length === 0 ||
    m.length > MAX_MILESTONES ||
    !m.every((x) => Number.isInteger(x) && (x as number) >= 1 && (x as number) <= 1e6)
  )
    throw new JobRefused(`trial.pruning.milestones: got ${got(m)}, expected 1 to ${MAX_MILESTONES} integer epochs from 1 to 1000000`);
  if (typeof v.eta !== 'number' || !(v.eta > 1 && v.eta <= 1000))
    throw new JobRefused(`trial.pruning.eta: got ${got(v.eta)}, expected a number > 1 and <= 1000`);
  if (v.goal !== 'maximize' && v.goal !== 'minimize') throw new JobRefused(`trial.pruning.goal: got ${got(v.goal)}, expected maximize or minimize`);
  if (v.metric !== 'accuracy' && v.metric !== 'loss') throw new JobRefused(`trial.pruning.metric: got ${got(v.metric)}, expected accuracy or loss`);
  if (v.strict !== undefined && typeof v.strict !== 'boolean') throw new JobRefused(`trial.pruning.strict: got ${got(v.strict)}, expected true or false`);
  return { milestones: m as number[], eta: v.eta, goal: v.goal, metric: v.metric, ...(typeof v.strict === 'boolean' ? { strict: v.strict } : {}) };
}

/**
 * Checks a job's data against the schema (types, sizes, parameters against the block's schema) and
 * that its id is the one its content implies; throws JobRefused naming the field. The MAC is checked
 * by the caller, who reads the secret from the (now well-formed) sweep directory.
 */
export function validateJob(id: unknown, data: unknown): JobData {
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(data) ?? '');
  } catch {
    throw new JobRefused('data: not JSON');
  }
  if (size > MAX_JOB_BYTES) throw new JobRefused(`data: ${size} bytes, expected at most ${MAX_JOB_BYTES}`);
  if (!isPlainObject(data)) throw new JobRefused(`data: got ${got(data)}, expected {v, sweepId, trial, mac}`);
  onlyKeys(data, 'data', ['v', 'sweepId', 'trial', 'mac']);
  if (data.v !== JOB_SCHEMA) throw new JobRefused(`v: got ${got(data.v)}, expected ${JOB_SCHEMA} (a job of another dendritic version?)`);
  if (typeof data.sweepId !== 'string' || !/^[se][0-9a-f]{12}$/.test(data.sweepId))
    throw new JobRefused(`sweepId: got ${got(data.sweepId)}, expected s or e and 12 hex digits`);
  if (typeof data.mac !== 'string' || !/^[0-9a-f]{64}$/.test(data.mac)) throw new JobRefused(`mac: got ${got(data.mac)}, expected 64 hex digits`);
  const t = data.trial;
  if (!isPlainObject(t)) throw new JobRefused(`trial: got ${got(t)}, expected an object`);
  onlyKeys(t, 'trial', ['id', 'kind', 'params', 'dataDirectory', 'sweepDirectory', 'pruning']);
  if (t.kind !== 'train' && t.kind !== 'experiment-run') throw new JobRefused(`trial.kind: got ${got(t.kind)}, expected train or experiment-run`);
  const idPattern = t.kind === 'train' ? /^t\d{4,6}$/ : /^r\d{4,6}$/;
  if (typeof t.id !== 'string' || !idPattern.test(t.id))
    throw new JobRefused(`trial.id: got ${got(t.id)}, expected ${t.kind === 'train' ? 't' : 'r'} and 4 to 6 digits`);
  const trial: SignedTrial = {
    id: t.id,
    kind: t.kind,
    params: params(t.params, t.kind),
    dataDirectory: directory(t.dataDirectory, 'trial.dataDirectory'),
    sweepDirectory: directory(t.sweepDirectory, 'trial.sweepDirectory'),
    pruning: pruning(t.pruning ?? null),
  };
  if (trial.kind === 'experiment-run' && trial.pruning) throw new JobRefused('trial.pruning: expected null for an experiment run');
  const job: JobData = { v: JOB_SCHEMA, sweepId: data.sweepId, trial, mac: data.mac };
  if (id !== signedJobId(job)) throw new JobRefused(`job id: got ${got(id)}, expected ${signedJobId(job)} (the id its content implies)`);
  return job;
}

/** A verified job's trial as the worker runs it: its out directory derived from the verified directory. */
export function verifiedSpec(job: JobData, secret: Buffer): TrialSpec {
  if (!macEqual(job.mac, mac(secret, 'job', { sweepId: job.sweepId, trial: job.trial })))
    throw new JobRefused(`mac: does not verify with the secret of ${job.trial.sweepDirectory}: a job this sweep's coordinator did not sign`);
  const { id, kind, params: p, dataDirectory, sweepDirectory, pruning: pr } = job.trial;
  return { id, kind, params: p, dataDirectory, sweepDirectory, outDirectory: trialOutDirectory(job.trial), pruning: pr };
}
