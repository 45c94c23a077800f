/**
 * Issue 18: the command line behaves like the tools users know. Every command answers --help/-h on
 * stdout with exit 0 and does no work; --version/-v and `help`; usage mistakes are one line on stderr
 * with exit 2; a training run's progress goes to stderr (no control codes off a terminal) and its
 * result to stdout; --json-logs is the machine-readable stream on stdout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../src/cli/main.js';
import { writeNpy } from '../../src/data/npy.js';
import { REPO_ROOT, runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';
import { has, missingLine } from '../helpers/prerequisites.js';

const { dir: root, cleanup } = tempDir('cli');
after(cleanup);
const data = join(root, 'data');
before(() => {
  mkdirSync(data);
  writeEiDirectory(data, { features: 24, classes: 3, trainRows: 90, valRows: 30 });
});

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

test('every command answers --help and -h on stdout, exit 0, and does nothing else (demo --help does not run the demo)', () => {
  const names = COMMANDS.map((c) => c.name);
  assert.deepEqual(names, ['train', 'features', 'demo', 'predict', 'experiment', 'experiment-run', 'sweep', 'worker', 'report']);
  const cwd = join(root, 'help-cwd');
  mkdirSync(cwd);
  for (const name of names) {
    for (const flag of ['--help', '-h']) {
      // With arguments that would otherwise start work (or fail): help wins.
      const r = runCli([name, '--out-directory', join(cwd, 'out'), flag], { cwd });
      assert.equal(r.code, 0, `${name} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: dendritic ${name}`), `${name} ${flag}`);
      assert.equal(r.stderr, '', `${name} ${flag}`);
    }
    const viaHelp = runCli(['help', name], { cwd });
    assert.equal(viaHelp.code, 0);
    assert.equal(viaHelp.stdout, runCli([name, '--help'], { cwd }).stdout, `help ${name} = ${name} --help`);
  }
  assert.deepEqual(readdirSync(cwd), [], 'no command wrote anything');
});

test('--version, -v and help', () => {
  for (const flag of ['--version', '-v']) {
    const r = runCli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
    assert.equal(r.stderr, '');
  }
  for (const args of [['help'], ['--help'], ['-h']]) {
    const r = runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: dendritic <command> \[options\]/);
    // Hidden commands (experiment-run: started by experiment and worker) answer --help but are not listed.
    for (const c of COMMANDS) assert[c.hidden ? 'doesNotMatch' : 'match'](r.stdout, new RegExp(`^  ${c.name} `, 'm'));
  }
});

test('usage mistakes: one line (or the usage for no command) on stderr, nothing on stdout, exit 2', () => {
  const none = runCli([]);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^Usage: dendritic <command>/);
  const cases: Array<[string[], RegExp]> = [
    [['bogus'], /^error: dendritic: unknown command 'bogus'/],
    [['--bogus'], /^error: dendritic: unknown option '--bogus'/],
    [['help', 'bogus'], /unknown command 'bogus'/],
    [['report'], /^error: dendritic report: expected exactly one OUT_DIR/],
    [['report', 'a', 'b'], /^error: dendritic report: expected exactly one OUT_DIR/],
    [['features', '--seed'], /^error: dendritic features: --seed: expected a value after it; see 'dendritic features --help'/],
    [['features', '--wav-dir', 'w', '--out-directory', 'o', '--bogus', '1'], /dendritic features: --bogus: unknown option/],
    [['predict', 'model.onnx'], /^error: dendritic predict: expected MODEL and INPUT, got 'model\.onnx'/],
    [['predict', 'm.onnx', 'x.npy', '--json=1'], /dendritic predict: --json: takes no value/],
    [['demo', '--out-directory'], /--out-directory: expected a value/],
    [['train', '--data-directory', data], /--out-directory: is required/],
    [['experiment', '--seeds'], /experiment: --seeds: expected a value/],
    [['sweep', '--data-directory', data, '--out-directory', 'o'], /^error: dendritic sweep: --config: missing; see 'dendritic sweep --help'/],
    [
      ['sweep', '--config', 'c.yaml', '--data-directory', data, '--out-directory', 'o', '--workers', '0'],
      /dendritic sweep: --workers: got '0', expected an integer >= 1/,
    ],
    [['sweep', 'best'], /^error: dendritic sweep best: expected exactly one sweep out directory O/],
    [['worker'], /^error: dendritic worker: --queue: missing/],
  ];
  for (const [args, pattern] of cases) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', args.join(' '));
    assert.match(r.stderr, pattern, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  }
});

test('train off a terminal: progress on stderr without control codes, the result line alone on stdout; --json-logs on stdout', () => {
  const out = join(root, 'plain');
  const r = runCli(['train', '--data-directory', data, '--out-directory', out, '--epochs', '3', '--dendrites', '0', '--export-format', 'onnx'], {
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^epoch 1\/3 {2}loss/m);
  assert.match(r.stderr, /^Effective configuration:/m);
  assert.doesNotMatch(r.stderr, /[\r\x1b]/, 'no progress bar or escape codes when stderr is not a terminal');
  assert.match(r.stdout, /^done: val_acc \d\.\d{3} \(best epoch \d+\), [\d,]+ parameters, 0 dendrite sets, [\d.]+s \(\w+\); report: .*report\.html\n$/);

  const json = runCli(
    [
      'train',
      '--data-directory',
      data,
      '--out-directory',
      join(root, 'json'),
      '--epochs',
      '2',
      '--dendrites',
      '0',
      '--export-format',
      'onnx',
      '--json-logs',
    ],
    { timeoutMs: 120_000 },
  );
  assert.equal(json.code, 0, json.stderr);
  const objects = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
  assert.deepEqual(objects.filter((o) => o.type === 'epoch').length, 2);
  assert.equal(objects.at(-1)!.type, 'result');
  assert.equal(json.stderr, '');
});

test('--input-shape is honoured without train_input.json, and train_input.json is preferred (with a note) when both give one', () => {
  const out = join(root, 'shape');
  const r = runCli(
    [
      'train',
      '--data-directory',
      data,
      '--out-directory',
      out,
      '--epochs',
      '1',
      '--dendrites',
      '0',
      '--export-format',
      'onnx',
      '--input-shape',
      '(4, 6)',
      '--model',
      'dense',
    ],
    { timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /unknown arguments/);
  assert.match(r.stderr, /data: .*24 features \(shape 4x6\)/);
  const info = join(root, 'shape-info.json');
  writeFileSync(info, JSON.stringify({ classes: ['a', 'b', 'c'], inputShapeString: '(24,)' }));
  const both = runCli(
    [
      'train',
      '--data-directory',
      data,
      '--out-directory',
      join(root, 'shape2'),
      '--info-file',
      info,
      '--epochs',
      '1',
      '--dendrites',
      '0',
      '--export-format',
      'onnx',
      '--input-shape',
      '(4, 6)',
    ],
    { timeoutMs: 120_000 },
  );
  assert.equal(both.code, 0, both.stderr);
  assert.match(both.stderr, /--input-shape \(4, 6\) not used: .*shape-info\.json's inputShapeString \(24\) is preferred/);
  const bad = runCli(['train', '--data-directory', data, '--out-directory', join(root, 'shape3'), '--input-shape', '(5,)']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--input-shape: shape: \(5,\) has 5 features but X_split_train\.npy rows have 24/);
});

test('predict: --y gives the accuracy of an .npy input; the table never cuts class names', () => {
  const names = ['background_noise_long', 'keyword_hello_world', 'unknown_speech'];
  const info = join(root, 'long-names.json');
  writeFileSync(info, JSON.stringify({ classes: names }));
  const out = join(root, 'long');
  const t = runCli(
    [
      'train',
      '--data-directory',
      data,
      '--out-directory',
      out,
      '--info-file',
      info,
      '--epochs',
      '3',
      '--dendrites',
      '0',
      '--export-format',
      'tflite',
      '--quiet',
    ],
    { timeoutMs: 120_000 },
  );
  assert.equal(t.code, 0, t.stderr);
  const p = runCli(['predict', join(out, 'model.tflite'), join(data, 'X_split_test.npy'), '--y', join(data, 'Y_split_test.npy')]);
  assert.equal(p.code, 0, p.stderr);
  const lines = p.stdout.trim().split('\n');
  assert.equal(lines[0], 'model: tflite-float, 3 classes');
  for (const n of names) assert.ok(lines[1]!.includes(` ${n}`), `header shows '${n}' whole: ${lines[1]}`);
  for (const row of lines.slice(2, -1)) assert.match(row, new RegExp(`^\\d+ +(${names.join('|')}) `), row);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { exports: { format: string; accuracy: number }[] };
  const measured = report.exports.find((e) => e.format === 'tflite-float')!.accuracy;
  assert.equal(lines.at(-1), `accuracy ${(100 * measured).toFixed(2)}% over 30 inputs labelled by ${join(data, 'Y_split_test.npy')} (tflite-float)`);
  // Labels that do not fit the input are named.
  const short = join(root, 'y-short.npy');
  writeNpy(short, new Int32Array(5), [5], 'int32');
  const bad = runCli(['predict', join(out, 'model.tflite'), join(data, 'X_split_test.npy'), '--y', short]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /y-short\.npy: rows: 5 label rows but .* has 30/);
});

test(
  'the progress bar is drawn only when stderr is a terminal (util-linux script gives the command one)',
  { skip: has('script') ? false : missingLine('script') },
  () => {
    const cli = join(REPO_ROOT, 'dist', 'cli.js');
    const base = `${process.execPath} ${cli} train --data-directory ${data} --out-directory ${join(root, 'tty')} --epochs 2 --dendrites 0 --export-format onnx`;
    // stderr on the pseudo-terminal, stdout to a file: the bar is drawn on the terminal, stdout has the result only.
    const stdoutFile = join(root, 'tty-stdout.txt');
    const onTty = spawnSync('/usr/bin/script', ['-qec', `${base} > ${stdoutFile}`, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(onTty.status, 0, onTty.stderr);
    assert.match(onTty.stdout, /\r\x1b\[Kepoch 1\/2 \[[#-]{24}\] \d+\/\d+ batches/);
    assert.match(readFileSync(stdoutFile, 'utf8'), /^done: val_acc [^\r\x1b]*\n$/);
    // stderr to a file while stdout is the terminal: no control codes in the file.
    const stderrFile = join(root, 'tty-stderr.txt');
    const offTty = spawnSync('/usr/bin/script', ['-qec', `${base} 2> ${stderrFile}`, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(offTty.status, 0, offTty.stderr);
    const err = readFileSync(stderrFile, 'utf8');
    assert.match(err, /^epoch 2\/2 {2}loss/m);
    assert.doesNotMatch(err, /[\r\x1b]/);
  },
);
