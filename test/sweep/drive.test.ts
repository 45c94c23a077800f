/**
 * The trial loop a sweep and an experiment share (src/sweep/drive.ts), on a scripted backend: the
 * window is kept full, each result is recorded before the backend forgets it, and a SIGTERM/SIGINT
 * stops handing out trials, aborts the backend, drops a result that arrives after it and is returned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/sweep/backend.js';
import { driveTrials, signalExitCode, StopSignals } from '../../src/sweep/drive.js';
import type { TrialResult, TrialSpec } from '../../src/sweep/trial.js';

/** A backend whose trials finish when the test says so; it logs every call. */
class ScriptedBackend implements Backend {
  readonly calls: string[] = [];
  private readonly running: string[] = [];
  private waiter: ((r: TrialResult) => void) | undefined;
  private readonly finished: TrialResult[] = [];

  async submit(spec: TrialSpec): Promise<void> {
    this.calls.push(`submit ${spec.id}`);
    this.running.push(spec.id);
  }
  inFlight(): number {
    return this.running.length;
  }
  next(): Promise<TrialResult> {
    const ready = this.finished.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => (this.waiter = resolve));
  }
  async acknowledge(id: string): Promise<void> {
    this.calls.push(`acknowledge ${id}`);
  }
  abort(): void {
    this.calls.push('abort');
  }
  async close(): Promise<void> {}

  /** Finishes the oldest running trial. */
  finish(): void {
    const id = this.running.shift()!;
    const result: TrialResult = { id, params: {}, status: 'completed', metrics: null, deployment: null, epochs: 1, seconds: 0, worker: 'test', out: id };
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(result);
    } else this.finished.push(result);
  }
}

const spec = (id: string): TrialSpec => ({ id, params: {}, dataDirectory: '/d', outDirectory: `/o/${id}`, sweepDirectory: '/o', pruning: null });
const tick = () => new Promise((r) => setImmediate(r));

function proposer(n: number): () => TrialSpec | undefined {
  let i = 0;
  return () => (i < n ? spec(`t${++i}`) : undefined);
}

test('driveTrials keeps the window full and records each result before acknowledging it', async () => {
  const backend = new ScriptedBackend();
  const stop = new StopSignals(() => backend.abort());
  try {
    const recorded: string[] = [];
    const done = driveTrials({
      backend,
      window: 2,
      propose: proposer(3),
      record: (r) => {
        recorded.push(r.id);
        backend.calls.push(`record ${r.id}`);
      },
      stop,
    });
    for (let i = 0; i < 3; i++) {
      await tick();
      backend.finish();
    }
    assert.equal(await done, null);
    assert.deepEqual(recorded, ['t1', 't2', 't3']);
    assert.deepEqual(backend.calls, [
      'submit t1',
      'submit t2',
      'record t1',
      'acknowledge t1',
      'submit t3',
      'record t2',
      'acknowledge t2',
      'record t3',
      'acknowledge t3',
    ]);
  } finally {
    stop.dispose();
  }
});

test('a SIGTERM stops driveTrials: no further trial, the backend aborted, a later result dropped; exit codes 143 and 130', async () => {
  const backend = new ScriptedBackend();
  const stops: string[] = [];
  const stop = new StopSignals((signal) => {
    stops.push(signal);
    backend.abort();
  });
  try {
    const recorded: string[] = [];
    const done = driveTrials({ backend, window: 1, propose: proposer(5), record: (r) => void recorded.push(r.id), stop });
    await tick();
    backend.finish();
    await tick();
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGINT', 'SIGINT'); // a second signal changes nothing
    backend.finish(); // t2, killed by the stop: not recorded
    assert.equal(await done, 'SIGTERM');
    assert.deepEqual(stops, ['SIGTERM']);
    assert.deepEqual(recorded, ['t1']);
    assert.deepEqual(backend.calls, ['submit t1', 'acknowledge t1', 'submit t2', 'abort']);
  } finally {
    stop.dispose();
  }
  assert.equal(signalExitCode('SIGTERM'), 143);
  assert.equal(signalExitCode('SIGINT'), 130);
});

test('a backend that returns no result is an error, never a quiet end of the loop with trials in flight', async () => {
  const backend = new ScriptedBackend();
  backend.next = () => Promise.resolve(null as unknown as TrialResult);
  const stop = new StopSignals(() => backend.abort());
  try {
    await assert.rejects(
      driveTrials({ backend, window: 2, propose: proposer(3), record: () => undefined, stop }),
      /the backend returned null instead of a trial's result/,
    );
  } finally {
    stop.dispose();
  }
});
