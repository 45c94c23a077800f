/**
 * Issue 17's done-when, locally: a 20-trial random sweep on two local worker slots; sweep.json and
 * sweep.html are right; `sweep best` prints settings that, trained again, give the best trial's
 * accuracy; a rerun resumes (nothing left to do). Then hyperband prunes on a grid sweep.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, writeEiDirectory } from '../helpers/ei-data.js';
import { paretoFront } from '../../src/sweep/html.js';
import { assertPrunedAt, readSweep, writeSweepFixture } from './helpers.js';

test('a 20-trial random sweep runs locally on 2 workers; sweep.json, sweep.html and sweep best are right', () => {
  const { dir, cleanup } = tempDir('sweep-local');
  try {
    const { data, config } = writeSweepFixture(dir);
    const out = join(dir, 'out');
    const r = runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--workers', '2'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { trials: number; completed: number };
    assert.equal(summary.trials, 20);
    assert.equal(summary.completed, 20);
    const s = readSweep(out);
    assert.equal(s.trials.length, 20);
    assert.deepEqual(
      s.trials.map((t) => t.id).sort(),
      Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(4, '0')}`),
    );
    assert.deepEqual(s.pending, []);
    assert.deepEqual(new Set(s.trials.map((t) => t.worker)), new Set(['local-1', 'local-2']));
    for (const t of s.trials) {
      assert.equal(t.status, 'completed');
      assert.deepEqual(Object.keys(t.params), ['epochs', 'learning-rate', 'width', 'optimizer', 'dendrites']);
      // metrics and deployment are the trial's own report.json
      const report = JSON.parse(readFileSync(join(out, t.out, 'report.json'), 'utf8'));
      assert.equal(t.metrics!.accuracy, report.validation.accuracy);
      assert.equal(t.metrics!.loss, report.validation.loss);
      const int8 = report.deployment.find((d: { variant: string }) => d.variant === 'tflite-int8');
      assert.deepEqual(t.deployment, {
        variant: 'tflite-int8',
        ram_bytes: int8.ram_bytes,
        flash_bytes: int8.flash_bytes,
        macs: int8.macs,
        latency_ms: int8.latency_ms,
      });
      const int8Export = report.exports.find((e: { format: string }) => e.format === 'tflite-int8');
      assert.equal(t.metrics!.int8_accuracy, int8Export.accuracy);
      // what dendrites did: report.json's own figures, per trial
      assert.equal(t.dendrites!.enabled, t.params.dendrites);
      assert.equal(t.dendrites!.tried, report.dendrites.tried);
      assert.equal(t.dendrites!.shipped, report.dendrites.payoff?.shipped === 'plain' || report.dendrites.added === 0 ? 'plain' : 'dendritic');
      // every swept value reached the trial's train run from the command line
      for (const [param, value] of Object.entries(t.params)) {
        assert.deepEqual([report.effective_config[param].value, report.effective_config[param].source], [value, 'cli'], `${t.id} ${param}`);
      }
      assert.ok(t.seconds > 0);
    }
    // best: the highest accuracy (ties: the lower loss)
    const top = [...s.trials].sort(
      (a, b) => b.metrics!.accuracy! - a.metrics!.accuracy! || a.metrics!.loss! - b.metrics!.loss! || a.id.localeCompare(b.id),
    )[0]!;
    assert.equal(s.best!.id, top.id);
    assert.equal(s.best!.value, top.metrics!.accuracy);
    assert.ok(new Set(s.trials.map((t) => t.metrics!.accuracy)).size > 2, 'the sweep should spread the accuracies');

    // sweep.html: self-contained, one line per trial, the Pareto fronts
    const html = readFileSync(join(out, 'sweep.html'), 'utf8');
    assert.doesNotMatch(html, /<script|<link|src=|href=|https?:/);
    assert.equal((html.match(/<polyline class="trial"/g) ?? []).length, 20);
    assert.match(html, new RegExp(`<polyline class="trial" data-trial="${s.best!.id}"[^>]*stroke-width="3"`));
    for (const [id, bytes] of [
      ['pareto-ram', 'ram_bytes'],
      ['pareto-flash', 'flash_bytes'],
    ] as const) {
      const svg = new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(html)![0];
      assert.equal((svg.match(/<circle /g) ?? []).length, 20);
      const onFront = [...svg.matchAll(/class="point on-front" data-trial="(t\d+)"/g)].map((m) => m[1]).sort();
      // independent check: not dominated in (accuracy up, bytes down)
      const expected = s.trials
        .filter(
          (a) =>
            !s.trials.some(
              (b) =>
                b.metrics!.accuracy! >= a.metrics!.accuracy! &&
                b.deployment![bytes] <= a.deployment![bytes] &&
                (b.metrics!.accuracy! > a.metrics!.accuracy! || b.deployment![bytes] < a.deployment![bytes]),
            ),
        )
        .map((t) => t.id)
        .sort();
      assert.deepEqual(onFront, expected);
      assert.deepEqual(
        paretoFront(s.trials, (t) => t.deployment![bytes])
          .map((t) => t.id)
          .sort(),
        expected,
      );
      assert.ok(expected.includes(s.best!.id) || s.trials.some((t) => expected.includes(t.id) && t.metrics!.accuracy === s.best!.value));
    }
    assert.match(html, /<svg id="parallel-coordinates"/);

    // sweep best: the flags reproduce the best trial's accuracy
    const best = runCli(['sweep', 'best', out]);
    assert.equal(best.code, 0, best.stderr);
    const lines = best.stdout.split('\n');
    const flags = lines[2]!.split(' ');
    assert.equal(flags[0], '--epochs');
    const fragment = JSON.parse(lines.slice(4).join('\n')) as Array<{ param: string; value: unknown }>;
    assert.deepEqual(
      fragment.map((f) => [f.param, f.value]),
      Object.entries(s.best!.params),
    );
    const again = join(dir, 'again');
    const t = runCli(['train', '--data-directory', data, '--out-directory', again, ...flags, '--quiet'], { timeoutMs: 60_000 });
    assert.equal(t.code, 0, t.stderr);
    const report = JSON.parse(readFileSync(join(again, 'report.json'), 'utf8'));
    assert.equal(report.validation.accuracy, s.best!.metrics!.accuracy);
    assert.equal(report.validation.loss, s.best!.metrics!.loss);

    // rerunning the same command resumes: nothing left, nothing run twice
    const trialsBefore = readdirSync(join(out, 'trials')).length;
    const rerun = runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--workers', '2']);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stderr, /resuming sweep s[0-9a-f]+: 20 trials finished, 0 pending/);
    assert.equal(readSweep(out).trials.length, 20);
    assert.equal(readdirSync(join(out, 'trials')).length, trialsBefore);

    // another config into the same out directory is refused
    writeFileSync(config, readFileSync(config, 'utf8').replace('seed: 7', 'seed: 8'));
    const other = runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out]);
    assert.equal(other.code, 2);
    assert.match(other.stderr, /sweep\.json: config_hash: this out directory holds another sweep/);
  } finally {
    cleanup();
  }
});

test('hyperband prunes trials whose metric at a milestone is not in the best 1/eta (status pruned, train stopped by SIGTERM)', () => {
  const { dir, cleanup } = tempDir('sweep-prune');
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 3000, valRows: 60, seed: 3 });
    const config = join(dir, 'hb.yaml');
    writeFileSync(
      config,
      `method: grid
parameters:
  learning-rate: {values: [0.05, 0.00001, 0.05, 0.00001]}
  epochs: {value: 60}
  dendrites: {value: false}
  restarts: {value: false}
  lr-schedule: {value: none}
early_terminate: {type: hyperband, min_iter: 2, eta: 2, s: 2}
`,
    );
    const out = join(dir, 'out');
    const r = runCli(['sweep', '--config', config, '--data-directory', data, '--out-directory', out], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const s = readSweep(out);
    const byId = Object.fromEntries(s.trials.map((t) => [t.id, t]));
    assert.deepEqual(
      ['t0001', 't0002', 't0003', 't0004'].map((id) => byId[id]!.status),
      ['completed', 'pruned', 'completed', 'pruned'],
    );
    for (const id of ['t0002', 't0004']) assertPrunedAt(out, byId[id]!, 2, 60);
    assert.equal(byId['t0001']!.epochs, 60);
    assert.ok(existsSync(join(out, 'sweep.html')));
    assert.match(readFileSync(join(out, 'sweep.html'), 'utf8'), /stroke-dasharray/); // pruned trials are dashed
  } finally {
    cleanup();
  }
});

test('one coordinator per out directory; SIGTERM stops the sweep (exit 143), its trials pending for the rerun', async () => {
  const { dir, cleanup } = tempDir('sweep-lock');
  try {
    const { data, config } = writeSweepFixture(dir);
    const out = join(dir, 'out');
    const args = ['sweep', '--config', config, '--data-directory', data, '--out-directory', out, '--workers', '2'];
    const first = startCli(args);
    const exit = waitForExit(first);
    await waitForOutput(first, /trial t\d+ completed/, 60_000);
    const second = runCli(args);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /out-directory: in use by another run \(sweep, pid \d+/);
    first.kill('SIGTERM');
    const r = await exit;
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /SIGTERM: stopping the sweep; rerun the same command to continue it/);
    const s = readSweep(out);
    assert.ok(s.trials.length >= 1 && s.trials.length < 20);
    assert.ok(s.pending.length >= 1, 'the trials it stopped are pending');
  } finally {
    cleanup();
  }
});
