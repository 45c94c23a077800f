import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.js';

/**
 * Starts `moduleUrl` (a module that acts as its own worker entry point) in a worker thread. Run from
 * TypeScript sources (tsx), a worker does not inherit the loader, so a small bootstrap registers tsx first.
 */
export function startModuleWorker(moduleUrl: string, workerData: unknown, options: { stdout?: boolean; stderr?: boolean } = {}): Worker {
  const self = new URL(moduleUrl);
  if (!self.pathname.endsWith('.ts')) return new Worker(self, { workerData, ...options });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(self.href)}); });`;
  return new Worker(boot, { eval: true, workerData, ...options });
}

/** A worker's error as plain data (errors do not cross threads as classes); `user` marks a UserError. */
export type WorkerFailure = { ok: false; user: boolean; message: string; stack?: string };

/** What a worker posts back: its value, or its error. */
export type WorkerReply<T> = { ok: true; value: T } | WorkerFailure;

/** The reply for an error thrown in the worker. */
export function replyFromError(err: unknown): WorkerFailure {
  return {
    ok: false,
    user: err instanceof UserError,
    message: err instanceof Error ? err.message : String(err),
    ...(err instanceof Error && err.stack !== undefined ? { stack: err.stack } : {}),
  };
}

/** The error to throw in the parent for a failed reply: a UserError stays a UserError (no stack), others keep the worker's stack. */
export function errorFromReply(reply: WorkerFailure): Error {
  if (reply.user) return new UserError(reply.message);
  const err = new Error(reply.message);
  if (reply.stack !== undefined) err.stack = reply.stack;
  return err;
}
