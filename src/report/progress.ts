/**
 * What a training run prints while it runs. Progress and logs go to stderr, the result (the final
 * summary line) to stdout, as command-line tools do; `--json-logs` is the one exception: the whole
 * stream is the output a script asked for, so every object goes to stdout.
 *  - 'tty':   stderr is a terminal: a live bar per epoch (batches, samples/s, ETA) redrawn with \r, then the epoch line.
 *  - 'plain': stderr is not a terminal (Edge Impulse logs, CI, a file): one line per epoch (ending with the
 *             best validation accuracy so far and its epoch, and the run's ETA: at most the mean epoch
 *             time times the epochs left to the limit), one per dendrite event, info/warning lines; never
 *             a partial line or control character.
 *  - 'quiet': only warnings and the final summary.
 *  - 'json':  one JSON object per line on stdout, for scripts: {"type": "epoch_start" | "epoch" |
 *             "dendrite_event" | "info" | "warning" | "result", ...}; an epoch line carries the EpochRecord
 *             fields and best_val_acc, best_epoch, eta_seconds, a dendrite_event line {epoch, event,
 *             detail?}, a result line the RunSummary.
 */
import type { DendriteEvent, EpochRecord, StopReason } from './schema.js';

export type ProgressMode = 'tty' | 'plain' | 'quiet' | 'json';

/** Written to the stream; a Writable such as process.stdout, or anything with write(). */
export interface TextSink {
  write(chunk: string): unknown;
}

export interface RunSummary {
  /** Final validation accuracy, 0..1 (null without validation). */
  accuracy: number | null;
  best_epoch: number | null;
  parameters: number;
  dendrite_sets: number;
  seconds: number;
  stopped_by: StopReason;
  /** Where report.html was written, if it was. */
  report?: string;
}

export interface ProgressLogger {
  readonly mode: ProgressMode;
  /** Call before the first batch of an epoch (1-based epoch). */
  epochStart(epoch: number, totalEpochs: number, batches: number): void;
  /** Cumulative within the epoch: batches finished so far and samples processed so far. */
  batchDone(batchesDone: number, samplesDone: number): void;
  epochEnd(record: EpochRecord): void;
  event(e: DendriteEvent): void;
  info(msg: string): void;
  /**
   * The run's effective configuration: in json mode one object, {"type": "config", "config": {param:
   * {value, source}}}; otherwise its table, `lines`, one info line each.
   */
  config(effective: object, lines: readonly string[]): void;
  warn(msg: string): void;
  result(summary: RunSummary): void;
}

export interface ProgressOptions {
  mode: ProgressMode;
  /** Progress: epoch lines, events, info (json: every object). Default: stdout for 'json', stderr otherwise. */
  stream?: TextSink;
  /** The final summary line in non-json modes. Default: `stream` when one is given, else process.stdout. */
  resultStream?: TextSink;
  /** Warnings in non-json modes. Default: process.stderr. */
  errorStream?: TextSink;
  /** Milliseconds clock; injectable so tests are deterministic. */
  now?: () => number;
}

/** Picks the mode from CLI flags and whether stderr (where the bar is drawn) is a terminal. */
export function chooseProgressMode(flags: { json?: boolean; quiet?: boolean; isTTY?: boolean }): ProgressMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  return (flags.isTTY ?? process.stderr.isTTY === true) ? 'tty' : 'plain';
}

const f3 = (v: number | null): string => (v === null ? '-' : v.toFixed(3));

export function formatEpochLine(r: EpochRecord, totalEpochs: number | null): string {
  const parts = [
    `epoch ${r.epoch}/${totalEpochs ?? '?'}`,
    `loss ${f3(r.loss)}`,
    `acc ${f3(r.acc)}`,
    `val_loss ${f3(r.val_loss)}`,
    `val_acc ${f3(r.val_acc)}`,
    `lr ${+r.lr.toPrecision(3)}`,
  ];
  if (r.dendrite_sets > 0 || r.phase === 'dendrite') parts.push(`sets ${r.dendrite_sets}${r.phase === 'dendrite' ? ' (dendrite phase)' : ''}`);
  parts.push(`${r.seconds.toFixed(1)}s`);
  return parts.join('  ');
}

const EVENT_TEXT: Record<DendriteEvent['type'], string> = {
  added: 'dendrite set added',
  discarded: 'dendrite set discarded',
  restored_best: 'best weights restored',
  pruned: 'dendrite set pruned',
  training_complete: 'training complete',
  time_limit: 'time limit reached',
  interrupted: 'interrupted',
};

export function formatEventLine(e: DendriteEvent): string {
  return `epoch ${e.epoch}: ${EVENT_TEXT[e.type]}${e.detail ? ` (${e.detail})` : ''}`;
}

export function formatSummaryLine(s: RunSummary): string {
  const acc = s.accuracy === null ? 'no validation' : `val_acc ${s.accuracy.toFixed(3)}${s.best_epoch !== null ? ` (best epoch ${s.best_epoch})` : ''}`;
  const report = s.report ? `; report: ${s.report}` : '';
  return `done: ${acc}, ${s.parameters.toLocaleString('en-US')} parameters, ${s.dendrite_sets} dendrite sets, ${s.seconds.toFixed(1)}s (${s.stopped_by})${report}`;
}

function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '--';
  if (sec < 60) return `${Math.ceil(sec)}s`;
  return `${Math.floor(sec / 60)}m${String(Math.round(sec % 60)).padStart(2, '0')}s`;
}

class Logger implements ProgressLogger {
  private readonly out: TextSink;
  private readonly err: TextSink;
  private readonly res: TextSink;
  private readonly now: () => number;
  private totalEpochs: number | null = null;
  private epoch = 0;
  private batches = 0;
  private epochStartMs = 0;
  private lastDrawMs = -Infinity;
  private barVisible = false;
  /** The run so far: the best validation accuracy and its epoch, and the epochs' seconds (for the run's ETA). */
  private best: { valAcc: number; epoch: number } | null = null;
  private epochSeconds = 0;
  private epochsSeen = 0;

  constructor(
    readonly mode: ProgressMode,
    opts: ProgressOptions,
  ) {
    this.out = opts.stream ?? (mode === 'json' ? process.stdout : process.stderr);
    this.err = opts.errorStream ?? process.stderr;
    this.res = opts.resultStream ?? opts.stream ?? process.stdout;
    this.now = opts.now ?? (() => performance.now());
  }

  private json(type: string, body: object): void {
    this.out.write(`${JSON.stringify({ type, ...body })}\n`);
  }

  /** Removes the live bar before any full line is written over it. */
  private clearBar(): void {
    if (this.barVisible) {
      this.out.write('\r\x1b[K');
      this.barVisible = false;
    }
  }

  private line(text: string, sink: TextSink = this.out): void {
    this.clearBar();
    sink.write(`${text}\n`);
  }

  epochStart(epoch: number, totalEpochs: number, batches: number): void {
    this.epoch = epoch;
    this.totalEpochs = totalEpochs;
    this.batches = batches;
    this.epochStartMs = this.now();
    this.lastDrawMs = -Infinity;
    if (this.mode === 'json') this.json('epoch_start', { epoch, total_epochs: totalEpochs, batches });
  }

  batchDone(batchesDone: number, samplesDone: number): void {
    if (this.mode !== 'tty') return;
    const t = this.now();
    // Redrawing a terminal line is slow compared with a small batch; 10 redraws a second is smooth enough.
    if (t - this.lastDrawMs < 100 && batchesDone < this.batches) return;
    this.lastDrawMs = t;
    const elapsed = (t - this.epochStartMs) / 1000;
    const rate = elapsed > 0 ? samplesDone / elapsed : 0;
    const eta = batchesDone > 0 ? (elapsed / batchesDone) * (this.batches - batchesDone) : NaN;
    const width = 24;
    const filled = this.batches > 0 ? Math.round((batchesDone / this.batches) * width) : 0;
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    this.out.write(
      `\r\x1b[Kepoch ${this.epoch}/${this.totalEpochs ?? '?'} [${bar}] ${batchesDone}/${this.batches} batches  ` +
        `${Math.round(rate).toLocaleString('en-US')} samples/s  ETA ${formatDuration(eta)}`,
    );
    this.barVisible = true;
  }

  epochEnd(record: EpochRecord): void {
    if (record.val_acc !== null && (this.best === null || record.val_acc > this.best.valAcc)) this.best = { valAcc: record.val_acc, epoch: record.epoch };
    this.epochSeconds += record.seconds;
    this.epochsSeen++;
    // At most this long to the epoch limit, at the mean epoch time so far (the run may end sooner).
    const left = this.totalEpochs !== null ? Math.max(0, this.totalEpochs - record.epoch) : null;
    const eta = left === null ? null : left === 0 ? 0 : (this.epochSeconds / this.epochsSeen) * left;
    if (this.mode === 'json') {
      return this.json('epoch', {
        ...record,
        total_epochs: this.totalEpochs,
        best_val_acc: this.best?.valAcc ?? null,
        best_epoch: this.best?.epoch ?? null,
        eta_seconds: eta === null ? null : Number(eta.toFixed(1)),
      });
    }
    if (this.mode === 'quiet') return;
    const best = this.best ? `  best val_acc ${this.best.valAcc.toFixed(3)} (epoch ${this.best.epoch})` : '';
    const etaText = eta !== null && eta > 0 ? `  ETA <=${formatDuration(eta)}` : '';
    this.line(`${formatEpochLine(record, this.totalEpochs)}${best}${etaText}`);
  }

  event(e: DendriteEvent): void {
    // The event's own type goes in `event`: `type` is the line's kind in json mode.
    if (this.mode === 'json') return this.json('dendrite_event', { epoch: e.epoch, event: e.type, ...(e.detail ? { detail: e.detail } : {}) });
    if (this.mode === 'quiet') return;
    this.line(formatEventLine(e));
  }

  info(msg: string): void {
    if (this.mode === 'json') return this.json('info', { message: msg });
    if (this.mode === 'quiet') return;
    this.line(msg);
  }

  config(effective: object, lines: readonly string[]): void {
    if (this.mode === 'json') return this.json('config', { config: effective });
    for (const l of lines) this.info(l);
  }

  warn(msg: string): void {
    if (this.mode === 'json') return this.json('warning', { message: msg });
    this.clearBar();
    this.err.write(`warning: ${msg}\n`);
  }

  result(summary: RunSummary): void {
    if (this.mode === 'json') return this.json('result', { ...summary });
    this.line(formatSummaryLine(summary), this.res);
  }
}

export function createProgressLogger(opts: ProgressOptions): ProgressLogger {
  return new Logger(opts.mode, opts);
}
