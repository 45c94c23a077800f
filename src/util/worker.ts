import { Worker } from 'node:worker_threads';

/**
 * Starts `moduleUrl` (a module that acts as its own worker entry point) in a worker thread. Run from
 * TypeScript sources (tsx), a worker does not inherit the loader, so a small bootstrap registers tsx first.
 */
export function startModuleWorker(moduleUrl: string, workerData: unknown): Worker {
  const self = new URL(moduleUrl);
  if (!self.pathname.endsWith('.ts')) return new Worker(self, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(self.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}
