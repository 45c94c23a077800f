import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { REQUIRED_FOR_TRAIN, parseArgs, unknownArgsWarning } from '../../src/params/parse.js';
import { defaultConfig } from '../../src/params/schema.js';

const parsed = (...argv: string[]) => parseArgs(argv);

/** Asserts a UserError whose message names every given fragment (flag, value, expectation). */
function rejects(argv: string[], ...fragments: string[]): void {
  assert.throws(
    () => parseArgs(argv),
    (err: unknown) => {
      assert.ok(err instanceof UserError, `expected a UserError for ${argv.join(' ')}, got ${String(err)}`);
      for (const fragment of fragments) assert.ok(err.message.includes(fragment), `"${err.message}" should mention "${fragment}"`);
      return true;
    },
  );
}

test('no arguments: every value is its default, every source is default', () => {
  const { config, sources, unknown } = parsed();
  assert.deepEqual(config, defaultConfig());
  assert.ok(Object.values(sources).every((s) => s === 'default'));
  assert.deepEqual(unknown, []);
});

test('int, float, select and string: --key value and --key=value', () => {
  for (const argv of [
    ['--epochs', '7', '--learning-rate', '0.02', '--model', 'dense', '--improvement-threshold', '0.01,0.002'],
    ['--epochs=7', '--learning-rate=0.02', '--model=dense', '--improvement-threshold=0.01,0.002'],
  ]) {
    const { config, sources } = parseArgs(argv);
    assert.equal(config.epochs, 7);
    assert.equal(config.learningRate, 0.02);
    assert.equal(config.model, 'dense');
    assert.deepEqual(config.improvementThreshold, [0.01, 0.002]);
    for (const key of ['epochs', 'learningRate', 'model', 'improvementThreshold'] as const) assert.equal(sources[key], 'cli');
    assert.equal(sources.batchSize, 'default');
  }
});

test('floats in exponent notation, negative-looking and signed values', () => {
  assert.equal(parsed('--improvement-threshold-raw', '1e-7').config.improvementThresholdRaw, 1e-7);
  assert.equal(parsed('--learning-rate', '.5').config.learningRate, 0.5);
  assert.equal(parsed('--seed', '+42').config.seed, 42);
  assert.equal(parsed('--width', '2').config.width, 2);
});

test('string values: quoted text with spaces arrives verbatim; paths', () => {
  const { config } = parsed('--data-directory', '/home/my data', '--out-directory', '/home/out', '--info-file', '/home/train_input.json');
  assert.equal(config.dataDirectory, '/home/my data');
  assert.equal(config.outDirectory, '/home/out');
  assert.equal(config.infoFile, '/home/train_input.json');
  assert.equal(parsed('--input-file', '/x/train_input.json').config.infoFile, '/x/train_input.json');
  assert.equal(parsed('--input-file', '/x/t.json').sources.infoFile, 'cli');
});

test('boolean: 1, 0, true, false (any case), =value, and a bare flag followed by another flag or the end', () => {
  const cases: [string[], boolean][] = [
    [['--dendrites', '0'], false],
    [['--dendrites', '1'], true],
    [['--dendrites', 'false'], false],
    [['--dendrites', 'true'], true],
    [['--dendrites', 'False'], false],
    [['--dendrites', 'TRUE'], true],
    [['--dendrites=0'], false],
    [['--dendrites=true'], true],
    [['--retain-all-dendrites'], true],
    [['--retain-all-dendrites', '--epochs', '3'], true],
  ];
  for (const [argv, expected] of cases) {
    const key = argv[0]!.startsWith('--dendrites') ? 'dendrites' : 'retainAllDendrites';
    const result = parseArgs(argv);
    assert.equal(result.config[key], expected, argv.join(' '));
    assert.equal(result.sources[key], 'cli');
  }
  assert.equal(parsed('--retain-all-dendrites', '--epochs', '3').config.epochs, 3);
});

test('flag: bare means on, absent means off, =0/=1 accepted; it never swallows the next token', () => {
  assert.equal(parsed().config.quiet, false);
  assert.equal(parsed('--quiet').config.quiet, true);
  assert.equal(parsed('--quiet=0').config.quiet, false);
  assert.equal(parsed('--json-logs=1').config.jsonLogs, true);
  const { config, unknown } = parsed('--resume', 'stray');
  assert.equal(config.resume, true);
  assert.deepEqual(unknown, ['stray']);
});

test('malformed values are UserErrors naming the flag, the value and the expectation', () => {
  rejects(['--epochs', 'ten'], '--epochs', 'ten', 'integer');
  rejects(['--epochs', '0'], '--epochs', "'0'", '>= 1');
  rejects(['--epochs', '2.5'], '--epochs', '2.5', 'integer', 'not a whole number');
  rejects(['--epochs', '100.5'], '--epochs', "got '100.5', expected an integer >= 1 and <= 100000 (100.5 is not a whole number)");
  rejects(['--epochs', '1e-1'], '--epochs', 'not a whole number');
  rejects(['--epochs', '1e400'], '--epochs', '1e400', 'integer');
  rejects(['--seed', '1e20'], '--seed', '1e20');
  rejects(['--epochs', '0x10'], '--epochs', 'integer');
  rejects(['--batch-size', '-3'], '--batch-size', '-3', '>= 1');
  rejects(['--learning-rate', '0'], '--learning-rate', "'0'", '> 0');
  rejects(['--learning-rate', 'fast'], '--learning-rate', 'fast', 'number');
  rejects(['--learning-rate', 'Infinity'], '--learning-rate', 'Infinity');
  rejects(['--learning-rate', 'NaN'], '--learning-rate', 'NaN');
  rejects(['--dropout', '0.95'], '--dropout', '0.95', '<= 0.9');
  rejects(['--model', 'resnet'], '--model', 'resnet', 'auto|ei-kws|dense|conv2d');
  rejects(['--optimizer', 'Adam'], '--optimizer', 'Adam', 'adam|sgd');
  rejects(['--dendrites', 'yes'], '--dendrites', 'yes', '1|0|true|false');
  rejects(['--dendrites', '2'], '--dendrites', "'2'");
  rejects(['--quiet=maybe'], '--quiet', 'maybe');
  rejects(['--improvement-threshold', '0.1,abc'], '--improvement-threshold', '0.1,abc', 'abc');
  rejects(['--improvement-threshold', '0.1,-1'], '--improvement-threshold', '-1');
  rejects(['--improvement-threshold', '0.1,1'], '--improvement-threshold', 'below 1');
  rejects(['--n-epochs-to-switch', '0'], '--n-epochs-to-switch', "'0'");
  rejects(['--switch-mode', 'sometimes'], '--switch-mode', 'sometimes');
  rejects(['--switch-score', 'f1'], '--switch-score', 'f1');
  rejects(['--seed', '4294967296'], '--seed', '4294967296');
  rejects(['--epochs='], '--epochs', 'integer');
});

test('an integer parameter accepts a whole number written as a float, as a float parameter accepts "1.0"', () => {
  const cases: [string[], number][] = [
    [['--epochs', '100.0'], 100],
    [['--epochs', '1e2'], 100],
    [['--epochs=1.5e1'], 15],
    [['--epochs', '7.'], 7],
    [['--max-training-seconds', '0.0'], 0],
    [['--seed', '4294967295.0'], 4294967295],
    [['--dendrite-rank', '+2.000'], 2],
  ];
  for (const [argv, expected] of cases) {
    const result = parseArgs(argv);
    const key = argv[0]!.startsWith('--epochs')
      ? 'epochs'
      : argv[0] === '--seed'
        ? 'seed'
        : argv[0] === '--dendrite-rank'
          ? 'dendriteRank'
          : 'maxTrainingSeconds';
    assert.equal(result.config[key], expected, argv.join(' '));
    assert.ok(Number.isInteger(result.config[key]));
  }
  // the range still applies to the whole number
  rejects(['--epochs', '0.0'], '--epochs', "'0.0'", '>= 1');
  rejects(['--dendrite-rank', '6.5e1'], '--dendrite-rank', '<= 64');
  assert.equal(parsed('--width', '1.0').config.width, 1);
});

test('a missing value is a UserError, not a swallowed flag', () => {
  rejects(['--epochs'], '--epochs', 'missing value');
  rejects(['--epochs', '--batch-size', '8'], '--epochs', 'missing value');
  rejects(['--data-directory'], '--data-directory', 'missing value');
});

test('required options are enforced only when asked', () => {
  assert.deepEqual([...REQUIRED_FOR_TRAIN], ['dataDirectory', 'outDirectory']);
  assert.equal(parsed('--out-directory', '/o').config.dataDirectory, undefined);
  const train = { required: REQUIRED_FOR_TRAIN, isRunner: () => false };
  assert.throws(
    () => parseArgs(['--out-directory', '/o'], train),
    (e: unknown) => e instanceof UserError && /--data-directory: is required/.test(e.message),
  );
  assert.throws(
    () => parseArgs(['--data-directory', '/d'], train),
    (e: unknown) => e instanceof UserError && /--out-directory: is required/.test(e.message),
  );
  const ok = parseArgs(['--data-directory', '/d', '--out-directory', '/o'], { required: REQUIRED_FOR_TRAIN });
  assert.equal(ok.config.dataDirectory, '/d');
});

test('edge-impulse-blocks runner: data and out directories default to /home and /home/out, only on its data', () => {
  const runner = { required: REQUIRED_FOR_TRAIN, isRunner: () => true };
  const none = parseArgs(['--epochs', '3'], runner);
  assert.deepEqual([none.config.dataDirectory, none.config.outDirectory], ['/home', '/home/out']);
  assert.deepEqual([none.sources.dataDirectory, none.sources.outDirectory], ['default', 'default']);
  assert.equal(parseArgs(['--out-directory', '/o'], runner).config.dataDirectory, '/home');
  assert.equal(parseArgs(['--data-directory', '/home/'], runner).config.outDirectory, '/home/out');
  // Another data directory never gets the runner's out directory.
  assert.throws(
    () => parseArgs(['--data-directory', '/d'], runner),
    (e: unknown) => e instanceof UserError && /--out-directory: is required.*\/home\/out only when \/home\/X_split_train\.npy exists/.test(e.message),
  );
  // Off the runner, nothing is defaulted.
  assert.throws(() => parseArgs([], { required: REQUIRED_FOR_TRAIN, isRunner: () => false }), /--data-directory: is required/);
});

test("unknown arguments are listed, with their values, never dropped (Edge Impulse runner's legacy extras)", () => {
  const { config, unknown } = parsed(
    '--epochs',
    '30',
    '--validation-set-size',
    '0.2',
    '--input-shape',
    '(650,)',
    '--learning-rate',
    '0.01',
    '--some-switch',
    '--mystery=3',
    '--batch-size',
    '16',
    'positional',
  );
  // --input-shape is known now (honoured by data/ei-directory); --validation-set-size stays an ignored legacy extra.
  assert.deepEqual(unknown, ['--validation-set-size', '0.2', '--some-switch', '--mystery=3', 'positional']);
  assert.equal(config.inputShape, '(650,)');
  assert.equal(config.epochs, 30);
  assert.equal(config.learningRate, 0.01);
  assert.equal(config.batchSize, 16);
});

test('the unknown-arguments warning lists them and hints at misspelt known flags', () => {
  assert.equal(unknownArgsWarning([]), undefined);
  const warning = unknownArgsWarning(parsed('--shape', '(650,)', '--batch_size', '8', '--maxDendrites', '4').unknown);
  assert.ok(warning);
  assert.match(warning, /^ignoring unknown arguments: --shape "\(650,\)" --batch_size 8 --maxDendrites 4/);
  assert.match(warning, /--batch_size -> did you mean --batch-size\?/);
  assert.match(warning, /--maxDendrites -> did you mean --max-dendrites\?/);
});

test('the last of a repeated flag wins', () => {
  assert.equal(parsed('--epochs', '5', '--epochs', '9').config.epochs, 9);
});

test('the parsed config is a fresh object each time (no shared defaults mutated)', () => {
  const a = parsed('--improvement-threshold', '0.5');
  const b = parsed();
  assert.deepEqual(a.config.improvementThreshold, [0.5]);
  assert.deepEqual(b.config.improvementThreshold, [0.001, 0.0001]);
  b.config.improvementThreshold.push(9);
  assert.deepEqual(parsed().config.improvementThreshold, [0.001, 0.0001]);
});
