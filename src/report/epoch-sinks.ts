/**
 * Where a training run's per-epoch metrics go while it runs: metrics.jsonl always, TensorBoard event
 * files when asked (--tensorboard or train_input.json's tensorboardLogging), one write per epoch into the
 * directory given here (train's staging directory: published with the run, left for --resume by a killed
 * one), so a killed run keeps every epoch it finished.
 */
import { join } from 'node:path';
import type { TrainingObserver } from '../train/loop.js';
import { METRICS_JSONL, MetricsLog, type MetricsRun } from './metrics-log.js';
import { TENSORBOARD_DIR, TensorBoardWriter } from './tensorboard.js';

/**
 * The TensorBoard run (subdirectory of tensorboard/) of a second training run of the payoff check (the
 * run's own name, e.g. dendritic_candidate): TensorBoard lists it beside the first run's, so whichever
 * network ships, its curves are there.
 */
export function tensorboardRunDir(run: Exclude<MetricsRun, 'train'>): string {
  return run;
}

export interface EpochSinks {
  metricsPath: string;
  tensorboardPath: string | undefined;
  /**
   * `observer` with every finished epoch also recorded. TensorBoard: the first training run in
   * tensorboard/, the payoff check's other run in tensorboard/<run>/ (tensorboardRunDir), a run of its own.
   */
  observe(observer: TrainingObserver, run: MetricsRun): TrainingObserver;
  close(): void;
}

export function openEpochSinks(outDir: string, opts: { resume: boolean; tensorboard: boolean }): EpochSinks {
  const metrics = new MetricsLog(join(outDir, METRICS_JSONL), { append: opts.resume });
  const tensorboard = opts.tensorboard ? new TensorBoardWriter(join(outDir, TENSORBOARD_DIR)) : undefined;
  const otherBoards = new Map<MetricsRun, TensorBoardWriter>(); // created when such a run's first epoch ends
  return {
    metricsPath: metrics.path,
    tensorboardPath: tensorboard?.path,
    // Delegating methods, not a spread: an observer may be a class instance whose methods live on its prototype.
    observe: (observer, run) => ({
      epochStart: (epoch, total, batches) => observer.epochStart?.(epoch, total, batches),
      batchDone: (done, samples) => observer.batchDone?.(done, samples),
      event: (e) => observer.event?.(e),
      epochEnd: (record) => {
        metrics.epoch(record, run);
        if (run === 'train') tensorboard?.epoch(record);
        else if (tensorboard) {
          let board = otherBoards.get(run);
          if (!board) otherBoards.set(run, (board = new TensorBoardWriter(join(outDir, TENSORBOARD_DIR, tensorboardRunDir(run)))));
          board.epoch(record);
        }
        observer.epochEnd?.(record);
      },
    }),
    close: () => {
      metrics.close();
      tensorboard?.close();
      for (const b of otherBoards.values()) b.close();
    },
  };
}
