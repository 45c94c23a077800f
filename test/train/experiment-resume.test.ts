/**
 * `dendritic experiment` on the sweep's runner (src/experiment/runner.ts): killed (SIGKILL) after some
 * runs and rerun with the same command, it finishes with the same runs as an uninterrupted experiment
 * and does not run a recorded run again; while it runs, and after a kill, experiment.json/md hold the
 * runs finished so far (partial); SIGTERM stops it (exit 143) with its finished runs published; with
 * --queue, `dendritic worker` processes run the runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, writeEiDirectory } from '../helpers/ei-data.js';
import { startRedis } from '../sweep/helpers.js';
import { experimentArgs, ids, loggedRuns, processesUnder, readExperiment, recordedIds, runsOf, sleep, type ExperimentJson } from './experiment-helpers.js';
import { needs } from '../helpers/prerequisites.js';

test('experiment killed (SIGKILL) after some runs and rerun: the same runs as an uninterrupted one, no finished run repeated', async () => {
  const dir = tempDir('exp-resume');
  try {
    const data = join(dir.dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 60, valRows: 40, features: 8, classes: 3 });
    const whole = join(dir.dir, 'whole');
    const once = runCli(experimentArgs(data, whole), { timeoutMs: 120_000 });
    assert.equal(once.code, 0, once.stderr);
    assert.deepEqual(loggedRuns(once.stderr).sort(), [1, 2, 3, 4, 5, 6]);

    const out = join(dir.dir, 'resumed');
    const first = startCli(experimentArgs(data, out));
    const exited = waitForExit(first);
    await waitForOutput(first, /^\[2\/6\] run/m, 60_000);
    first.kill('SIGKILL');
    await exited;
    const recorded = recordedIds(out).map((id) => Number(id.slice(1)));
    assert.ok(recorded.length >= 2 && recorded.length < 6, `${recorded.length} runs recorded before the kill`);
    // The kill leaves the partial results published after each finished run (the last run's publish
    // may have been cut short: at least the first run's is there, never a run that was not recorded).
    const partial = readExperiment(out);
    assert.equal(partial.complete, false);
    assert.equal(partial.runs_planned, 6);
    assert.equal(partial.runs_done, partial.runs.length);
    assert.ok(partial.runs_done >= 1 && partial.runs_done <= recorded.length, `${partial.runs_done} runs published, ${recorded.length} recorded`);
    assert.deepEqual(
      partial.runs.map((r) => r.id),
      recordedIds(out).slice(0, partial.runs_done),
    );
    assert.match(readFileSync(join(out, 'experiment.md'), 'utf8'), new RegExp(`^Command: .*\\n\\nPartial results: ${partial.runs_done} of 6 runs done`));

    const second = runCli(experimentArgs(data, out), { timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`resuming: ${recorded.length} of 6 runs already recorded`));
    const rerun = loggedRuns(second.stderr);
    assert.deepEqual([...rerun, ...recorded].sort(), [1, 2, 3, 4, 5, 6], `rerun ran ${rerun}, recorded before ${recorded}`);
    assert.deepEqual(runsOf(out), runsOf(whole));
    const final = readExperiment(out);
    assert.deepEqual([final.complete, final.runs_done, final.runs_planned], [true, 6, 6]);
    assert.deepEqual(
      final.runs.map((r) => r.id),
      ids(6),
    );
    assert.match(readFileSync(join(out, 'experiment.md'), 'utf8'), /^Command: .*\n\n6 of 6 runs done\.\n/);
    // The table and the paired analysis come from the runs alone.
    const rowsOf = (o: string) => JSON.parse(readFileSync(join(o, 'experiment.json'), 'utf8')) as ExperimentJson;
    assert.deepEqual(JSON.stringify(rowsOf(out).front), JSON.stringify(rowsOf(whole).front));
  } finally {
    dir.cleanup();
  }
});

test('experiment: partial results while it runs; SIGTERM stops it (143) with its finished runs published and no run left running; a rerun completes it', async () => {
  const dir = tempDir('exp-sigterm');
  try {
    const data = join(dir.dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 60, valRows: 40, features: 8, classes: 3 });
    // 24 runs on 2 local slots: long enough to be stopped after the first finished run.
    const args = (out: string) => [...experimentArgs(data, out), '--seeds', '8', '--jobs', '2'];
    const whole = join(dir.dir, 'whole');
    const once = runCli(args(whole), { timeoutMs: 120_000 });
    assert.equal(once.code, 0, once.stderr);

    const out = join(dir.dir, 'stopped');
    const first = startCli(args(out));
    const exited = waitForExit(first);
    const t0 = Date.now();
    while (!existsSync(join(out, 'experiment.json')) && Date.now() - t0 < 60_000) await sleep(20);
    assert.equal(first.exitCode, null, 'the experiment still runs when its first partial results appear');
    const growing = readExperiment(out);
    assert.equal(growing.complete, false);
    assert.ok(growing.runs_done >= 1 && growing.runs_done < 24, `${growing.runs_done} runs in the first partial results`);
    first.kill('SIGTERM');
    const r = await exited;
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /SIGTERM: stopping the experiment/);
    assert.match(r.stderr, /(\d+) of 24 runs done: wrote them to .*experiment\.md and experiment\.json \(partial\); rerun the same command to continue/);
    assert.deepEqual(processesUnder(out), [], 'no run of the stopped experiment is left running');
    const stopped = readExperiment(out);
    const recorded = recordedIds(out);
    assert.ok(recorded.length >= 1 && recorded.length < 24, `${recorded.length} runs recorded before SIGTERM`);
    assert.deepEqual([stopped.complete, stopped.runs_done, stopped.runs_planned], [false, recorded.length, 24]);
    assert.deepEqual(
      stopped.runs.map((x) => x.id),
      recorded,
    );
    assert.match(r.stdout, new RegExp(`^Partial results: ${recorded.length} of 24 runs done`));

    const second = runCli(args(out), { timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`resuming: ${recorded.length} of 24 runs already recorded`));
    assert.deepEqual(
      [...loggedRuns(second.stderr, 24), ...recorded.map((id) => Number(id.slice(1)))].sort((a, b) => a - b),
      ids(24).map((id) => Number(id.slice(1))),
    );
    assert.equal(readExperiment(out).complete, true);
    assert.deepEqual(runsOf(out), runsOf(whole));
  } finally {
    dir.cleanup();
  }
});

test('a run that fails (its process killed) is left out and named; the others finish, exit 1; a rerun runs only it', async () => {
  const dir = tempDir('exp-failed-run');
  try {
    const data = join(dir.dir, 'data');
    mkdirSync(data);
    // Runs of about half a second (as in the killed-worker test), so one can be seen and killed mid-run.
    writeEiDirectory(data, { trainRows: 3000, valRows: 60, features: 16, classes: 3 });
    const args = (out: string) => [...experimentArgs(data, out, 100), '--first-fixed-switch-num', '40', '--fixed-switch-num', '40'];
    const whole = join(dir.dir, 'whole');
    assert.equal(runCli(args(whole), { timeoutMs: 120_000 }).code, 0);

    const out = join(dir.dir, 'failing');
    const first = startCli(args(out));
    const exited = waitForExit(first);
    // Kill the first run process seen after r0001 (as an OOM killer would): its id is in its spec path.
    let killed: string | undefined;
    const t0 = Date.now();
    while (!killed && Date.now() - t0 < 60_000) {
      const proc = processesUnder(join(out, 'experiment-runs')).find((p) => /experiment-run .*\/(r\d+)\/spec\.json/.test(p) && !p.includes('/r0001/'));
      if (proc) {
        killed = /\/(r\d+)\/spec\.json/.exec(proc)![1]!;
        process.kill(Number(proc.split(':')[0]), 'SIGKILL');
      } else await sleep(10);
    }
    assert.ok(killed, 'a run process was seen');
    const r = await exited;
    assert.equal(r.code, 1, r.stderr);
    const n = Number(killed.slice(1));
    assert.match(
      r.stderr,
      new RegExp(`run ${n} \\(${killed}\\) failed: .*signal SIGKILL.*; the experiment goes on without it \\(a rerun tries it again\\)`),
    );
    assert.match(r.stderr, new RegExp(`1 of 6 runs failed \\(${killed}\\): the table leaves them out`));
    const json = readExperiment(out);
    assert.deepEqual([json.complete, json.runs_done, json.runs_planned], [false, 5, 6]);
    assert.deepEqual(
      json.failed_runs.map((f) => [f.id, f.run]),
      [[killed, n]],
    );
    assert.deepEqual(
      json.runs.map((x) => x.id),
      ids(6).filter((id) => id !== killed),
    );
    assert.match(readFileSync(join(out, 'experiment.md'), 'utf8'), new RegExp(`1 run failed and is left out: ${killed} \\(run ${n}: `));

    const second = runCli(args(out), { timeoutMs: 120_000 });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resuming: 5 of 6 runs already recorded/);
    assert.deepEqual(loggedRuns(second.stderr), [n]);
    const done = readExperiment(out);
    assert.deepEqual([done.complete, done.failed_runs], [true, []]);
    assert.deepEqual(runsOf(out), runsOf(whole));
  } finally {
    dir.cleanup();
  }
});

test('experiment --queue: the runs go to dendritic worker processes, with the same results as local runs', { skip: needs('redis-server') }, async () => {
  const dir = tempDir('exp-queue');
  const redis = await startRedis(join(dir.dir, 'redis'));
  const worker = startCli(['worker', '--queue', redis.url, '--name', 'worker-a']);
  const workerDone = waitForExit(worker);
  try {
    const data = join(dir.dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 60, valRows: 40, features: 8, classes: 3 });
    const local = join(dir.dir, 'local');
    assert.equal(runCli(experimentArgs(data, local), { timeoutMs: 120_000 }).code, 0);
    const queued = join(dir.dir, 'queued');
    const r = runCli([...experimentArgs(data, queued), '--queue', redis.url], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /on the queue redis:/);
    assert.deepEqual(runsOf(queued), runsOf(local));
  } finally {
    worker.kill('SIGTERM');
    const w = await workerDone;
    await redis.stop();
    dir.cleanup();
    assert.match(w.stderr, /trial r0001 of sweep e[0-9a-f]+ started/);
  }
});
