/**
 * The failure this project must never repeat: a parameter declared in parameters.json that never
 * reaches the code. For every block parameter, build the argv Edge Impulse would pass from the
 * COMMITTED parameters.json (its `param` and `type`, read as JSON, not from the schema), with a
 * non-default value, parse it, and check the value lands in the Config with source 'cli'.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseArgs } from '../../src/params/parse.js';
import { BLOCK_PARAMETERS, SCHEMA, defaultConfig, type ConfigKey } from '../../src/params/schema.js';
import { edgeImpulseArgv, nonDefaultValue } from '../../src/params/values.js';

interface Item {
  param: string;
  type: string;
  value: unknown;
  valid?: string[];
}
const committed = JSON.parse(readFileSync(new URL('../../parameters.json', import.meta.url), 'utf8')) as { parameters: Item[] };

/**
 * Edge Impulse's passing rules written out independently of src/params (docs/edge-impulse-block.md).
 * `booleanStyle` covers both spellings seen in the wild.
 */
function edgeImpulsePasses(item: Item, value: unknown, booleanStyle: '1/0' | 'true/false'): string[] {
  switch (item.type) {
    case 'flag':
      return value === true ? [`--${item.param}`] : [];
    case 'boolean':
      return [`--${item.param}`, booleanStyle === '1/0' ? (value ? '1' : '0') : String(value)];
    case 'int':
    case 'float':
    case 'select':
      return [`--${item.param}`, String(value)];
    case 'string':
      return [`--${item.param}`, Array.isArray(value) ? value.join(',') : String(value)];
    default:
      throw new Error(`parameters.json: ${item.param}: type ${item.type} is not one Edge Impulse passes to a learning block`);
  }
}

const specOf = (item: Item) => {
  const spec = SCHEMA.find((s) => s.param === item.param);
  assert.ok(spec, `parameters.json declares --${item.param}, which the parser does not know`);
  return spec;
};

test('parameters.json declares exactly the block parameters', () => {
  assert.deepEqual(
    committed.parameters.map((p) => p.param),
    BLOCK_PARAMETERS.map((s) => s.param),
  );
});

for (const booleanStyle of ['1/0', 'true/false'] as const) {
  test(`every block parameter passed alone with a non-default value arrives in the Config (booleans as ${booleanStyle})`, () => {
    const defaults = defaultConfig();
    for (const item of committed.parameters) {
      const spec = specOf(item);
      const value = nonDefaultValue(spec);
      const argv = edgeImpulsePasses(item, value, booleanStyle);
      const { config, sources, unknown } = parseArgs([
        '--data-directory',
        '/home',
        '--out-directory',
        '/home/out',
        '--info-file',
        '/home/train_input.json',
        ...argv,
      ]);
      const where = `--${item.param} (${argv.join(' ')})`;
      assert.deepEqual(unknown, [], where);
      assert.notDeepEqual(value, defaults[spec.key], `${where}: test value must differ from the default`);
      assert.deepEqual(config[spec.key], value, where);
      assert.equal(sources[spec.key], 'cli', where);
      // Nothing else moved.
      for (const other of BLOCK_PARAMETERS.filter((s) => s.key !== spec.key)) {
        assert.deepEqual(config[other.key], defaults[other.key], `${where} changed ${other.param}`);
        assert.equal(sources[other.key], 'default', `${where} changed the source of ${other.param}`);
      }
    }
  });
}

test('all block parameters passed at once, in the order Edge Impulse lists them, plus runner extras', () => {
  const expected = new Map<ConfigKey, unknown>();
  const argv = ['--epochs', '100', '--learning-rate', '0.005', '--validation-set-size', '0.2', '--input-shape', '(650,)'];
  for (const item of committed.parameters) {
    const spec = specOf(item);
    const value = nonDefaultValue(spec);
    expected.set(spec.key, value);
    argv.push(...edgeImpulsePasses(item, value, '1/0'));
  }
  argv.push('--data-directory', '/home', '--out-directory', '/home/out', '--input-file', '/home/train_input.json');
  const { config, sources, unknown } = parseArgs(argv);
  assert.deepEqual(unknown, ['--validation-set-size', '0.2']);
  assert.equal(config.inputShape, '(650,)');
  for (const [key, value] of expected) {
    assert.deepEqual(config[key], value, key);
    assert.equal(sources[key], 'cli', key);
  }
  assert.equal(config.infoFile, '/home/train_input.json');
});

test("edgeImpulseArgv (for the delivery test) agrees with the independent rendering of Edge Impulse's rules", () => {
  for (const item of committed.parameters) {
    const spec = specOf(item);
    for (const value of [nonDefaultValue(spec), item.value]) {
      assert.deepEqual(edgeImpulseArgv(spec, value), edgeImpulsePasses(item, value, '1/0'), item.param);
    }
  }
  for (const spec of SCHEMA.filter((s) => s.cliOnly)) {
    const value = nonDefaultValue(spec);
    assert.deepEqual(parseArgs(edgeImpulseArgv(spec, value)).config[spec.key], value, spec.param);
  }
});
