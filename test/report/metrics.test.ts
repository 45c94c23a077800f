/**
 * Issue 18: per-epoch metrics while training. metrics.jsonl (one JSON line per epoch, written as the
 * epoch ends, so a killed run keeps it) and TensorBoard event files, read back by an independent reader
 * (test/report/tfevents_reader.py: TFRecord framing and masked CRC-32C, Event protos; written from
 * TensorFlow's specs, because no TensorFlow/TensorBoard package is installable from Debian; it also
 * decodes with Google's protobuf runtime when python3-protobuf is installed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METRICS_JSONL, MetricsLog, readMetricsLog, type MetricsLine } from '../../src/report/metrics-log.js';
import { crc32c, TENSORBOARD_DIR, TensorBoardWriter } from '../../src/report/tensorboard.js';
import type { EpochRecord } from '../../src/report/schema.js';
import { runCli, startCli, tempDir, waitForExit, waitForOutput, writeEiDirectory } from '../helpers/ei-data.js';
import { needs } from '../helpers/prerequisites.js';

const READER = fileURLToPath(new URL('./tfevents_reader.py', import.meta.url));

interface ReadEvent {
  wall_time: number | null;
  step: number;
  file_version: string | null;
  scalars: Record<string, number>;
}
interface ReaderOutput {
  records: number;
  events: ReadEvent[];
  protobuf_events: ReadEvent[] | null;
}

function readEvents(file: string): ReaderOutput {
  const r = spawnSync('/usr/bin/python3', [READER, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tfevents_reader.py failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as ReaderOutput;
  // The two decoders agree whenever the second one is installed.
  if (out.protobuf_events !== null) assert.deepEqual(out.protobuf_events, out.events, 'google.protobuf and the wire decoder agree');
  return out;
}

const record = (epoch: number, extra: Partial<EpochRecord> = {}): EpochRecord => ({
  epoch,
  phase: 'neuron',
  loss: 1 / epoch,
  acc: 0.5 + epoch / 100,
  val_loss: 1.5 / epoch,
  val_acc: 0.4 + epoch / 100,
  lr: 0.005,
  seconds: 0.1,
  dendrite_sets: 0,
  ...extra,
});

/** The reader's float32 scalars against the metrics' float64 values. */
function assertScalars(event: ReadEvent, m: EpochRecord): void {
  const expected: Record<string, number | null> = {
    'loss/train': m.loss,
    'loss/validation': m.val_loss,
    'accuracy/train': m.acc,
    'accuracy/validation': m.val_acc,
    learning_rate: m.lr,
    dendrite_sets: m.dendrite_sets,
  };
  for (const [tag, v] of Object.entries(expected)) {
    if (v === null) assert.equal(event.scalars[tag], undefined, tag);
    else assert.equal(event.scalars[tag], Math.fround(v), `epoch ${m.epoch} ${tag}`);
  }
}

const { dir: root, cleanup } = tempDir('metrics');
after(cleanup);
const data = join(root, 'data');
before(() => {
  mkdirSync(data);
  writeEiDirectory(data, { features: 24, classes: 3, trainRows: 90, valRows: 30 });
});

test('crc32c: the standard check value', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
});

test('MetricsLog appends one parseable line per epoch; a fresh run starts the file over, a resumed one keeps it', () => {
  const path = join(root, 'unit', METRICS_JSONL);
  const log = new MetricsLog(path, { append: false });
  log.epoch(record(1), 'train', () => 1000);
  log.epoch(record(2), 'payoff_plain', () => 2000);
  // readable before close: each line is already in the file
  const lines = readMetricsLog(readFileSync(path, 'utf8'));
  assert.deepEqual(
    lines.map((l) => [l.run, l.epoch, l.time]),
    [
      ['train', 1, 1],
      ['payoff_plain', 2, 2],
    ],
  );
  assert.equal(lines[0]!.val_acc, record(1).val_acc);
  log.close();
  const resumed = new MetricsLog(path, { append: true });
  resumed.epoch(record(3));
  resumed.close();
  assert.deepEqual(
    readMetricsLog(readFileSync(path, 'utf8')).map((l) => l.epoch),
    [1, 2, 3],
  );
  new MetricsLog(path, { append: false }).close();
  assert.equal(readFileSync(path, 'utf8'), '');
  assert.deepEqual(readMetricsLog('{"epoch":1}\n{"epo'), [{ epoch: 1 }], 'a torn last line is skipped');
});

test('TensorBoardWriter: a TFRecord stream of Event protos that the independent reader decodes, CRCs checked', () => {
  const dir = join(root, 'tb-unit');
  const w = new TensorBoardWriter(dir, () => 1_700_000_000_000);
  const epochs = [record(1), record(2, { val_loss: null, val_acc: null }), record(3, { dendrite_sets: 2, phase: 'dendrite', lr: 0.0025 })];
  for (const e of epochs) w.epoch(e);
  w.close();
  assert.match(w.path, /[/\\]events\.out\.tfevents\.1700000000\.[^/\\]+$/);
  const out = readEvents(w.path);
  assert.equal(out.records, 4);
  assert.equal(out.events[0]!.file_version, 'brain.Event:2');
  assert.equal(out.events[0]!.wall_time, 1_700_000_000);
  epochs.forEach((e, i) => {
    assert.equal(out.events[i + 1]!.step, e.epoch);
    assertScalars(out.events[i + 1]!, e);
  });
  // The reader checks the CRCs: one flipped byte is an error.
  const bytes = readFileSync(w.path);
  bytes[bytes.length - 6] = bytes[bytes.length - 6]! ^ 0xff;
  const corrupt = join(dir, 'corrupt.tfevents');
  writeFileSync(corrupt, bytes);
  const r = spawnSync('/usr/bin/python3', [READER, corrupt], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /bad data CRC/);
});

test("Google's protobuf runtime decodes the event file as the independent reader does", { skip: needs('python-protobuf') }, () => {
  const dir = join(root, 'tb-protobuf');
  const w = new TensorBoardWriter(dir, () => 1_700_000_000_000);
  for (const e of [record(1), record(2, { val_loss: null, val_acc: null })]) w.epoch(e);
  w.close();
  const out = readEvents(w.path);
  assert.notEqual(out.protobuf_events, null, 'tfevents_reader.py decoded with google.protobuf too');
  assert.equal(out.protobuf_events!.length, 3);
});

test('train --tensorboard: metrics.jsonl equals report.json history, the event file holds the same scalars', () => {
  const out = join(root, 'run-tb');
  const r = runCli(
    ['train', '--data-directory', data, '--out-directory', out, '--epochs', '5', '--dendrites', '0', '--tensorboard', '--export-format', 'onnx'],
    { timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { history: EpochRecord[] };
  const lines = readMetricsLog(readFileSync(join(out, METRICS_JSONL), 'utf8'));
  assert.equal(lines.length, report.history.length);
  lines.forEach((l: MetricsLine, i) => {
    const { run, time, ...rest } = l;
    assert.equal(run, 'train');
    assert.ok(time > 1.6e9);
    assert.deepEqual(rest, report.history[i]);
  });
  const files = readdirSync(join(out, TENSORBOARD_DIR));
  assert.equal(files.length, 1);
  assert.match(r.stderr, new RegExp(`tensorboard: .*${files[0]!.replace(/\./g, '\\.')}`));
  const events = readEvents(join(out, TENSORBOARD_DIR, files[0]!));
  assert.equal(events.records, 1 + lines.length);
  lines.forEach((l, i) => {
    assert.equal(events.events[i + 1]!.step, l.epoch);
    assertScalars(events.events[i + 1]!, l);
  });
});

test("train_input.json's tensorboardLogging turns the event files on; without it and without --tensorboard there are none", () => {
  const info = join(root, 'train_input.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'], mode: 'classification', tensorboardLogging: true }));
  const on = join(root, 'run-ei-tb');
  const r = runCli(
    ['train', '--data-directory', data, '--out-directory', on, '--info-file', info, '--epochs', '2', '--dendrites', '0', '--export-format', 'onnx'],
    { timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(join(on, TENSORBOARD_DIR));
  assert.equal(readEvents(join(on, TENSORBOARD_DIR, files[0]!)).records, 3);
  const off = join(root, 'run-no-tb');
  const r2 = runCli(['train', '--data-directory', data, '--out-directory', off, '--epochs', '2', '--dendrites', '0', '--export-format', 'onnx'], {
    timeoutMs: 120_000,
  });
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok(!existsSync(join(off, TENSORBOARD_DIR)));
  assert.equal(readMetricsLog(readFileSync(join(off, METRICS_JSONL), 'utf8')).length, 2);
});

test('SIGKILL mid-training: metrics.jsonl and the event file keep every epoch the log reported', async () => {
  const big = join(root, 'data-big');
  mkdirSync(big);
  writeEiDirectory(big, { features: 650, classes: 3, trainRows: 1500, valRows: 60 });
  const out = join(root, 'killed');
  const child = startCli([
    'train',
    '--data-directory',
    big,
    '--out-directory',
    out,
    '--epochs',
    '10000',
    '--dendrites',
    '0',
    '--restarts',
    '0',
    '--tensorboard',
  ]);
  const exit = waitForExit(child);
  const seen = await waitForOutput(child, /epoch 3\/10000 /, 60_000);
  child.kill('SIGKILL');
  const r = await exit;
  assert.equal(r.signal, 'SIGKILL');
  const reported = [...(seen + r.stderr).matchAll(/^epoch (\d+)\/10000 /gm)].map((m) => Number(m[1]));
  // A killed run never publishes: its metrics stay in its staging directory beside the out directory
  // (the log's `metrics:` line names it), and the out directory is not created.
  assert.ok(!existsSync(out), 'a killed run publishes nothing');
  const staging = readdirSync(root)
    .filter((n) => n.startsWith('.killed.dendritic-staging-'))
    .map((n) => join(root, n));
  assert.equal(staging.length, 1, readdirSync(root).join(', '));
  assert.match(seen + r.stderr, new RegExp(`metrics: ${join(staging[0]!, METRICS_JSONL).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  const lines = readMetricsLog(readFileSync(join(staging[0]!, METRICS_JSONL), 'utf8'));
  assert.ok(lines.length >= 3, `${lines.length} lines`);
  // Every epoch the log printed is in the file (the line is written before the log line), in order.
  assert.deepEqual(
    lines.map((l) => l.epoch),
    Array.from({ length: lines.length }, (_, i) => i + 1),
  );
  assert.ok(Math.max(...reported) <= lines.length, `reported ${Math.max(...reported)}, file has ${lines.length}`);
  const files = readdirSync(join(staging[0]!, TENSORBOARD_DIR));
  const events = readEvents(join(staging[0]!, TENSORBOARD_DIR, files[0]!));
  assert.equal(events.records, 1 + lines.length);
  assert.ok(!existsSync(join(staging[0]!, 'report.json')), 'a killed run never reached its report');
  // --resume takes them over and appends; the resumed run publishes the whole history.
  const resumed = runCli(
    [
      'train',
      '--data-directory',
      big,
      '--out-directory',
      out,
      '--epochs',
      '10000',
      '--max-training-seconds',
      '3',
      '--dendrites',
      '0',
      '--restarts',
      '0',
      '--tensorboard',
      '--resume',
    ],
    { timeoutMs: 120_000 },
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  const all = readMetricsLog(readFileSync(join(out, METRICS_JSONL), 'utf8'));
  assert.ok(all.length >= lines.length, `${all.length} lines after resume, ${lines.length} before`);
  assert.deepEqual(all.slice(0, lines.length), lines);
  assert.deepEqual(
    readdirSync(root).filter((n) => n.startsWith('.killed.dendritic')),
    [],
    "the killed run's staging is gone",
  );
});
