import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BLOCK_PARAMETERS, CONFIG_KEYS, SCHEMA, defaultConfig, defaultValue, parseNumberList, type ParamSpec } from '../../src/params/schema.js';
import { formatValue, nonDefaultValue, parseValue } from '../../src/params/values.js';

const DENDRITE_KNOBS = [
  'dendrite-training',
  'switch-mode',
  'n-epochs-to-switch',
  'history-lookback',
  'initial-history-after-switches',
  'fixed-switch-num',
  'first-fixed-switch-num',
  'improvement-threshold',
  'improvement-threshold-raw',
  'max-dendrite-tries',
  'max-dendrites',
  'retain-all-dendrites',
  'find-best-lr',
  'dont-give-up-unless-lr-lowered',
  'dendrite-activation',
  'candidate-weight-init',
  'dendrite-layers',
  'correlation-epochs',
  'correlation-candidates',
];
const TRAINING = [
  'epochs',
  'learning-rate',
  'batch-size',
  'seed',
  'model',
  'width',
  'dropout',
  'optimizer',
  'lr-schedule',
  'lr-patience',
  'noise',
  'spec-augment',
  'max-training-seconds',
  'export-format',
  'max-int8-drop',
];
const CLI_ONLY = ['data-directory', 'out-directory', 'info-file', 'quiet', 'json-logs', 'resume'];

const byParam = (param: string): ParamSpec => {
  const spec = SCHEMA.find((s) => s.param === param);
  assert.ok(spec, `no --${param} in the schema`);
  return spec;
};

test('schema keys are exactly the Config interface keys', () => {
  assert.deepEqual(SCHEMA.map((s) => s.key).sort(), Object.keys(CONFIG_KEYS).sort());
  assert.equal(new Set(SCHEMA.map((s) => s.key)).size, SCHEMA.length, 'duplicate key');
});

test('the schema holds every parameter of the contract (more may be added)', () => {
  const blockParams = BLOCK_PARAMETERS.map((s) => s.param);
  for (const param of [...TRAINING, 'dendrites', ...DENDRITE_KNOBS]) assert.ok(blockParams.includes(param), `--${param}`);
  for (const param of CLI_ONLY) assert.equal(byParam(param).cliOnly, true, `--${param} is command-line only`);
  assert.deepEqual(
    SCHEMA.filter((s) => s.requiredForTrain).map((s) => s.param),
    ['data-directory', 'out-directory'],
  );
  assert.deepEqual(byParam('info-file').aliases, ['input-file']);
});

test('flags are unique kebab-case and derive from their camelCase key', () => {
  const names = SCHEMA.flatMap((s) => [s.param, ...(s.aliases ?? [])]);
  assert.equal(new Set(names).size, names.length, 'a flag or alias is declared twice');
  for (const spec of SCHEMA) {
    assert.match(spec.param, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, spec.param);
    const camel = spec.param.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    assert.equal(spec.key, camel, `--${spec.param}`);
    assert.ok(spec.help.length > 10 && spec.consumer.length > 0, `--${spec.param} needs help and a consumer`);
  }
});

// Types only: defaults live in the schema alone and may be re-tuned there.
test('the contract types and select lists', () => {
  const expected: Record<string, [string, unknown]> = {
    epochs: ['int', 100],
    'learning-rate': ['float', 0.005],
    'batch-size': ['int', 32],
    seed: ['int', 0],
    model: ['select', 'auto'],
    width: ['float', 1],
    dropout: ['float', 0.25],
    optimizer: ['select', 'adam'],
    'lr-schedule': ['select', 'plateau'],
    'lr-patience': ['int', 5],
    noise: ['select', 'none'],
    'spec-augment': ['select', 'none'],
    'max-training-seconds': ['int', 0],
    'export-format': ['select', 'tflite'],
    'max-int8-drop': ['float', 1],
    dendrites: ['boolean', true],
    'dendrite-training': ['select', 'gd'],
    'switch-mode': ['select', 'history'],
    'n-epochs-to-switch': ['int', 10],
    'history-lookback': ['int', 1],
    'initial-history-after-switches': ['int', 0],
    'fixed-switch-num': ['int', 10],
    'first-fixed-switch-num': ['int', 10],
    'improvement-threshold': ['string', '0.001,0.0001'],
    'improvement-threshold-raw': ['float', 1e-5],
    'max-dendrite-tries': ['int', 2],
    'max-dendrites': ['int', 3],
    'retain-all-dendrites': ['boolean', false],
    'find-best-lr': ['boolean', true],
    'dont-give-up-unless-lr-lowered': ['boolean', true],
    'dendrite-activation': ['select', 'sigmoid'],
    'candidate-weight-init': ['float', 0.01],
    'dendrite-layers': ['select', 'all'],
    'correlation-epochs': ['int', 10],
    'correlation-candidates': ['int', 4],
    'data-directory': ['string', undefined],
    'out-directory': ['string', undefined],
    'info-file': ['string', undefined],
    quiet: ['flag', false],
    'json-logs': ['flag', false],
    resume: ['flag', false],
  };
  for (const [param, [type, initial]] of Object.entries(expected)) {
    const spec = byParam(param);
    assert.equal(spec.type, type, `--${param} type`);
    // Only the shape of the default is fixed by the contract, not its value.
    assert.equal(typeof spec.default, typeof initial, `--${param} default type`);
  }
  const selects: Record<string, string[]> = {
    model: ['auto', 'ei-kws', 'dense', 'conv2d'],
    optimizer: ['adam', 'sgd'],
    'lr-schedule': ['plateau', 'none'],
    noise: ['none', 'low', 'high'],
    'spec-augment': ['none', 'low', 'high'],
    'export-format': ['tflite', 'onnx', 'all'],
    'dendrite-training': ['gd', 'correlation'],
    'switch-mode': ['history', 'fixed', 'every-epoch', 'none'],
    'dendrite-activation': ['sigmoid', 'tanh', 'relu'],
    'dendrite-layers': ['all', 'output', 'hidden', 'first'],
  };
  for (const spec of SCHEMA.filter((s) => s.type === 'select')) {
    const contract = selects[spec.param] ?? [];
    for (const value of contract) assert.ok(spec.type === 'select' && spec.valid.includes(value), `--${spec.param} ${value}`);
    assert.ok(spec.type === 'select' && spec.valid.includes(spec.default), `--${spec.param} default in valid`);
  }
});

test('dendrites is a top-level switch and every dendrite knob is advanced and shown only when it is on', () => {
  const dendrites = byParam('dendrites');
  assert.equal(dendrites.name, 'Dendritic optimization');
  assert.equal(dendrites.section, undefined);
  assert.equal(dendrites.showIf, undefined);
  for (const param of DENDRITE_KNOBS) {
    const spec = byParam(param);
    assert.equal(spec.section, 'advanced', `--${param} section`);
    assert.deepEqual(spec.showIf, { parameter: 'dendrites', operator: 'eq', value: 'true' }, `--${param} showIf`);
  }
  // Knobs added later must follow the same rule.
  for (const spec of SCHEMA.filter((s) => s.group === 'Dendritic optimization' && s.param !== 'dendrites')) {
    assert.equal(spec.section, 'advanced', `--${spec.param} section`);
    assert.deepEqual(spec.showIf, { parameter: 'dendrites', operator: 'eq', value: 'true' }, `--${spec.param} showIf`);
  }
  for (const param of TRAINING) assert.equal(byParam(param).showIf, undefined, `--${param} is always shown`);
});

test('every default is itself a valid value (it survives its own parser)', () => {
  for (const spec of SCHEMA) {
    if (spec.default === undefined) continue;
    assert.deepEqual(parseValue(spec, formatValue(spec, defaultValue(spec))), defaultValue(spec), `--${spec.param}`);
  }
  assert.deepEqual(defaultConfig().improvementThreshold, [0.001, 0.0001]);
});

test('nonDefaultValue gives a valid value different from the default for every parameter', () => {
  for (const spec of SCHEMA) {
    const value = nonDefaultValue(spec);
    assert.notDeepEqual(value, defaultValue(spec), `--${spec.param}`);
    assert.deepEqual(parseValue(spec, formatValue(spec, value)), value, `--${spec.param} ${String(value)}`);
  }
});

test('parseNumberList validates each entry', () => {
  assert.deepEqual(parseNumberList('0.001, 0.0001,1e-5'), [0.001, 0.0001, 1e-5]);
  for (const bad of ['', '0.1,', 'a,0.1', '0.1,-0.2', '0.1,,0.2', 'NaN']) {
    assert.throws(() => parseNumberList(bad), Error, bad);
  }
});
