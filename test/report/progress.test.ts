import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseProgressMode, createProgressLogger, type ProgressMode, type RunSummary } from '../../src/report/progress.js';
import { makeFixtureReport } from './fixture.js';

class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

const report = makeFixtureReport(40);
const BATCHES = 91;
const SUMMARY: RunSummary = {
  accuracy: 0.871,
  best_epoch: 30,
  parameters: 9684,
  dendrite_sets: 2,
  seconds: 61.8,
  stopped_by: 'completed',
  report: 'out/report.html',
};

/** Drives a logger the way the training loop will: a simulated clock advancing 12 ms per batch. */
function simulate(mode: ProgressMode): { out: string; err: string } {
  const out = new Capture(),
    err = new Capture();
  let clock = 0;
  const log = createProgressLogger({ mode, stream: out, errorStream: err, now: () => clock });
  log.info('loaded 2,910 training and 317 validation samples');
  for (const h of report.history) {
    log.epochStart(h.epoch, 40, BATCHES);
    for (let b = 1; b <= BATCHES; b++) {
      clock += 12;
      log.batchDone(b, Math.min(b * 32, 2910));
    }
    log.epochEnd(h);
    for (const e of report.dendrites.events.filter((ev) => ev.epoch === h.epoch)) log.event(e);
    if (h.epoch === 20) log.warn('validation loss is rising');
  }
  log.result(SUMMARY);
  return { out: out.text, err: err.text };
}

const EPOCH_LINE =
  /^epoch (\d+)\/40 {2}loss \d+\.\d{3} {2}acc \d\.\d{3} {2}val_loss \d+\.\d{3} {2}val_acc \d\.\d{3} {2}lr [\d.e-]+( {2}sets \d+)? {2}\d+\.\ds {2}best val_acc \d\.\d{3} \(epoch \d+\)( {2}ETA <=(\d+s|\d+m\d\ds))?$/;

test('plain: exactly one clean line per epoch, one per event, then the summary', () => {
  const { out, err } = simulate('plain');
  assert.doesNotMatch(out, /[\r\x1b]/, 'no carriage returns or escape codes');
  const lines = out.split('\n');
  assert.equal(lines.pop(), '', 'ends with a newline');
  const epochLines = lines.filter((l) => l.startsWith('epoch ') && !l.includes(': '));
  assert.equal(epochLines.length, 40);
  epochLines.forEach((l, i) => {
    const m = l.match(EPOCH_LINE);
    assert.ok(m, `well-formed: ${l}`);
    assert.equal(Number(m[1]), i + 1);
    const h = report.history[i]!;
    assert.ok(l.includes(`val_acc ${h.val_acc!.toFixed(3)}`));
    assert.equal(l.includes(`sets ${h.dendrite_sets}`), h.dendrite_sets > 0);
  });
  const eventLines = lines.filter((l) => /^epoch \d+: /.test(l));
  assert.equal(eventLines.length, report.dendrites.events.length);
  assert.match(eventLines[1]!, /^epoch 12: dendrite set added \(no improvement for 3 epochs; set 1\)$/);
  assert.equal(lines.length, 1 + 40 + report.dendrites.events.length + 1, 'info + epochs + events + summary, nothing else');
  assert.equal(lines[0], 'loaded 2,910 training and 317 validation samples');
  assert.equal(lines.at(-1), 'done: val_acc 0.871 (best epoch 30), 9,684 parameters, 2 dendrite sets, 61.8s (completed); report: out/report.html');
  assert.equal(err, 'warning: validation loss is rising\n');
});

test('json: every line is a JSON object; epochs carry the full record', () => {
  const { out, err } = simulate('json');
  assert.equal(err, '');
  const objs = out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const byType = (t: string): Array<Record<string, unknown>> => objs.filter((o) => o.type === t);
  assert.equal(byType('epoch').length, 40);
  assert.equal(byType('epoch_start').length, 40);
  assert.equal(byType('dendrite_event').length, report.dendrites.events.length);
  assert.equal(byType('warning').length, 1);
  assert.equal(byType('info').length, 1);
  assert.equal(byType('result').length, 1);
  assert.deepEqual(byType('dendrite_event')[1], { type: 'dendrite_event', epoch: 12, event: 'added', detail: 'no improvement for 3 epochs; set 1' });
  const e12 = byType('epoch')[11]!;
  for (const [k, v] of Object.entries(report.history[11]!)) assert.deepEqual(e12[k], v, k);
  assert.deepEqual(byType('result')[0], { type: 'result', ...SUMMARY });
  assert.equal(objs.length, 40 * 2 + report.dendrites.events.length + 3);
});

test('tty: a live bar redrawn with \\r (throttled), cleared before each epoch line', () => {
  const { out } = simulate('tty');
  const redraws = out.split('\r\x1b[K').length - 1;
  // 91 batches x 12 ms = 1.09 s per epoch -> about 11 throttled redraws per epoch (plus clears).
  assert.ok(redraws > 40 * 5 && redraws < 40 * 20, `redraws ${redraws}`);
  assert.match(out, /epoch 3\/40 \[#+-*\] \d+\/91 batches {2}[\d,]+ samples\/s {2}ETA \d+s/);
  // After stripping the bar frames, what remains are the same lines plain mode prints.
  const finalLines = out
    .split('\n')
    .map((l) => l.slice(l.lastIndexOf('\r\x1b[K') + (l.includes('\r\x1b[K') ? 4 : 0)))
    .filter((l) => l.length > 0);
  assert.equal(finalLines.filter((l) => EPOCH_LINE.test(l)).length, 40);
  // The last frame of an epoch shows all batches done; samples/s = samples / elapsed (2910 / 1.092 s).
  assert.match(out, /91\/91 batches {2}2,665 samples\/s {2}ETA 0s/);
});

test('quiet: only warnings and the final summary', () => {
  const { out, err } = simulate('quiet');
  assert.equal(out, `done: val_acc 0.871 (best epoch 30), 9,684 parameters, 2 dendrite sets, 61.8s (completed); report: out/report.html\n`);
  assert.equal(err, 'warning: validation loss is rising\n');
});

test('mode choice: --json and --quiet win, otherwise a terminal gets the live bar', () => {
  assert.equal(chooseProgressMode({ json: true, isTTY: true }), 'json');
  assert.equal(chooseProgressMode({ quiet: true, isTTY: true }), 'quiet');
  assert.equal(chooseProgressMode({ isTTY: true }), 'tty');
  assert.equal(chooseProgressMode({ isTTY: false }), 'plain');
});

test('progress: each epoch line ends with the best validation accuracy so far and the run ETA (json: best_val_acc, best_epoch, eta_seconds)', () => {
  const { out } = simulate('plain');
  const json = simulate('json')
    .out.trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => o.type === 'epoch');
  const epochLines = out.split('\n').filter((l) => EPOCH_LINE.test(l));
  let best = { v: -1, epoch: 0 };
  let seconds = 0;
  report.history.forEach((h, i) => {
    if (h.val_acc !== null && h.val_acc > best.v) best = { v: h.val_acc, epoch: h.epoch };
    seconds += h.seconds;
    const eta = (seconds / (i + 1)) * (40 - h.epoch);
    assert.ok(epochLines[i]!.includes(`  best val_acc ${best.v.toFixed(3)} (epoch ${best.epoch})`), epochLines[i]);
    assert.equal(epochLines[i]!.includes('ETA <='), h.epoch < 40, epochLines[i]);
    assert.deepEqual([json[i]!.best_val_acc, json[i]!.best_epoch, json[i]!.eta_seconds], [best.v, best.epoch, Number(eta.toFixed(1))]);
  });
  assert.match(epochLines[9]!, / {2}ETA <=\d/);
});
