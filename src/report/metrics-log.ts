/**
 * metrics.jsonl: one JSON object per finished epoch, written while training runs, so a run that is
 * killed (SIGTERM, SIGKILL, a Studio time limit) still leaves the epochs it finished.
 *
 * Each line goes out with one write(2) on a file opened for appending, before the next epoch starts:
 * nothing is buffered in the process, so what was written survives the process being killed (the
 * kernel holds it; only a machine crash before the page cache is written back could lose it).
 *
 * The path is the caller's choice. `train` writes it straight into the out directory, not into a
 * staging directory that is published only at the end, because the file exists to be read while the
 * run goes on and after a run that never reached its end.
 *
 * Line fields (docs/metrics.md): run ("train": the first run, with dendrites on and the payoff check the
 * dendrites-off network; "dendritic_candidate": the dendritic network trained after it; "payoff_plain":
 * the earlier flow's plain network), epoch, phase, loss, acc, val_loss, val_acc, lr,
 * dendrite_sets, seconds (the epoch's), time (Unix seconds when the line was written).
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EpochRecord } from './schema.js';

export const METRICS_JSONL = 'metrics.jsonl';

/** dendritic_candidate: the checkbox's dendritic network, trained after the dendrites-off one ('train'), issue 22. */
export type MetricsRun = 'train' | 'payoff_plain' | 'dendritic_candidate';

export interface MetricsLine extends EpochRecord {
  run: MetricsRun;
  time: number;
}

export class MetricsLog {
  private fd: number | undefined;

  /** `append`: keep the lines already there (a resumed run); otherwise the file starts empty. */
  constructor(
    readonly path: string,
    opts: { append: boolean },
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, opts.append ? 'a' : 'w');
  }

  epoch(record: EpochRecord, run: MetricsRun = 'train', now: () => number = Date.now): void {
    if (this.fd === undefined) return;
    const line: MetricsLine = { run, ...record, time: now() / 1000 };
    const bytes = Buffer.from(`${JSON.stringify(line)}\n`, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Reads metrics.jsonl back (a torn last line, from a crash mid-write, is skipped). */
export function readMetricsLog(text: string): MetricsLine[] {
  const out: MetricsLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as MetricsLine);
    } catch {
      // an incomplete last line
    }
  }
  return out;
}
