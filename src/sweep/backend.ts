/**
 * Where trials run. The coordinator (coordinator.ts) hands a backend trial specs and takes finished
 * results back; the local backend runs them as child processes of this process, the queue backend
 * (queue.ts) puts them on a BullMQ queue for `dendritic worker` processes.
 */
import type { TrialResult, TrialSpec } from './trial.js';

export interface Backend {
  /** Starts a trial, or on resume re-attaches to one already started (same id: never run twice at once). */
  submit(spec: TrialSpec): Promise<void>;
  /** Trials submitted and not yet returned by next(). */
  inFlight(): number;
  /** The next finished trial. */
  next(): Promise<TrialResult>;
  /** Called once the result is in sweep.json: the backend may forget the trial. */
  acknowledge(id: string): Promise<void>;
  /** Stops at once (the sweep is interrupted): local trials are killed, queued ones stay queued. */
  abort(): void;
  close(): Promise<void>;
}
