/**
 * Runs an experiment's plan on several worker threads. Every run is a pure function of (data, config),
 * and the kernels are deterministic and single-threaded, so results are identical to a sequential run;
 * only the wall time and the order of the progress lines change. Results come back in plan order.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { errorFromReply, replyFromError, startModuleWorker, type WorkerReply } from '../util/worker.js';
import { runExperiment, runOne, type ExperimentData, type PlanEntry, type RunResult } from './run.js';

const POOL_TAG = 'dendritic-experiment-worker';

interface PoolInput {
  tag: typeof POOL_TAG;
  data: ExperimentData;
}

type Task = { index: number; entry: PlanEntry };
type Reply = WorkerReply<RunResult> & { index: number };

export async function runExperimentOnWorkers(
  data: ExperimentData,
  plan: readonly PlanEntry[],
  jobs: number,
  onRun?: (r: RunResult, index: number, done: number) => void,
): Promise<RunResult[]> {
  if (jobs <= 1 || plan.length <= 1) {
    return runExperiment(data, plan, (r, i) => onRun?.(r, i, i + 1));
  }
  const results: (RunResult | undefined)[] = new Array(plan.length);
  let next = 0;
  let done = 0;
  const workers = Array.from({ length: Math.min(jobs, plan.length) }, () =>
    startModuleWorker(import.meta.url, { tag: POOL_TAG, data } satisfies PoolInput),
  );
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolveWorker, reject) => {
            const feed = (): void => {
              if (next >= plan.length) return resolveWorker();
              const index = next++;
              worker.postMessage({ index, entry: plan[index]! } satisfies Task);
            };
            worker.on('message', (m: Reply) => {
              if (!m.ok) return reject(errorFromReply(m));
              results[m.index] = m.value;
              onRun?.(m.value, m.index, ++done);
              feed();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (next < plan.length || results.includes(undefined))
                reject(new Error(`an experiment worker exited with code ${code} before the plan was done`));
            });
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results as RunResult[];
}

if (!isMainThread && (workerData as Partial<PoolInput> | null)?.tag === POOL_TAG) {
  const { data } = workerData as PoolInput;
  parentPort!.on('message', ({ index, entry }: Task) => {
    try {
      parentPort!.postMessage({ index, ok: true, value: runOne(data, entry.config, entry.variant) } satisfies Reply);
    } catch (err) {
      parentPort!.postMessage({ index, ...replyFromError(err) } satisfies Reply);
    }
  });
}
