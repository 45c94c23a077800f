import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { README_END, README_START, REGENERATE_COMMAND, REPO_ROOT, generateFiles, readCurrent, replaceBetweenMarkers } from '../../src/params/generate.js';
import { buildParametersJson, packageRepositoryUrl, renderHelp, renderReadmeTable } from '../../src/params/parameters-json.js';
import { BLOCK_PARAMETERS, SCHEMA } from '../../src/params/schema.js';

test('committed parameters.json, README table and docs help equal what the schema generates', () => {
  const expected = generateFiles(readCurrent());
  for (const [path, text] of Object.entries(expected)) {
    const committed = readFileSync(`${REPO_ROOT}${path}`, 'utf8');
    assert.ok(committed === text, `${path} is out of date with src/params/schema.ts: run \`${REGENERATE_COMMAND}\` and commit it`);
  }
});

test("parameters.json follows Edge Impulse's machine-learning block format", () => {
  const json = buildParametersJson();
  assert.equal(json.version, 1);
  assert.equal(json.type, 'machine-learning');
  assert.equal(json.info.name, 'Dendritic');
  assert.equal(json.info.operatesOn, 'other');
  assert.equal(json.info.indRequiresGpu, false);
  assert.equal(json.info.imageInputScaling, '0..1');
  const allowedKeys = new Set(['name', 'value', 'type', 'help', 'param', 'valid', 'showIf', 'section']);
  for (const item of json.parameters) {
    for (const key of Object.keys(item)) assert.ok(allowedKeys.has(key), `${item.param}: unexpected key ${key}`);
    assert.match(item.param, /^\S+$/, 'param must have no spaces');
    assert.ok(['int', 'float', 'select', 'boolean', 'flag', 'string'].includes(item.type));
    if (item.type === 'boolean' || item.type === 'flag') assert.equal(typeof item.value, 'boolean', item.param);
    if (item.type === 'int') assert.ok(Number.isInteger(item.value), item.param);
    if (item.type === 'float') assert.equal(typeof item.value, 'number', item.param);
    if (item.type === 'string') assert.equal(typeof item.value, 'string', item.param);
    if (item.type === 'select') {
      assert.ok(item.valid && item.valid.length >= 2 && item.valid.includes(item.value as string), item.param);
    } else {
      assert.equal(item.valid, undefined, item.param);
    }
    if (item.showIf) {
      assert.equal(typeof item.showIf.value, 'string', `${item.param}: showIf value must be a string`);
      assert.ok(
        json.parameters.some((p) => p.param === item.showIf!.parameter),
        `${item.param}: showIf names a declared parameter`,
      );
    }
  }
  assert.ok(!json.parameters.some((p) => ['data-directory', 'out-directory', 'info-file', 'quiet', 'json-logs', 'resume'].includes(p.param)));
  // Edge Impulse only passes --epochs/--learning-rate itself when a block declares no parameters.
  assert.ok(json.parameters.some((p) => p.param === 'epochs') && json.parameters.some((p) => p.param === 'learning-rate'));
});

test('help text and README table mention every parameter with its default and valid values', () => {
  const help = renderHelp();
  const table = renderReadmeTable();
  for (const spec of SCHEMA) {
    const helpLine = help.split('\n').find((l) => l.startsWith(`  --${spec.param}`));
    assert.ok(helpLine, `help lacks --${spec.param}`);
    if (spec.default !== undefined && spec.type !== 'flag') assert.ok(helpLine.includes(`default ${String(spec.default)}`), helpLine);
    if (spec.type === 'select') assert.ok(helpLine.includes(spec.valid.join('|')), helpLine);
    assert.ok(table.includes(`\`--${spec.param}\``), `README table lacks --${spec.param}`);
  }
  assert.ok(help.includes('--info-file, --input-file'));
  for (const spec of BLOCK_PARAMETERS) {
    const row = table.split('\n').find((l) => l.startsWith(`| \`--${spec.param}\` |`))!;
    assert.equal(row.split(/(?<!\\)\|/).length - 2, 8, `README row for --${spec.param} has 8 cells`);
  }
});

test('README markers: replaced in place when present, appended under a heading when missing, nothing else touched', () => {
  const original = '# Title\n\nIntro.\n';
  const appended = replaceBetweenMarkers(original, README_START, README_END, 'TABLE', '## Parameters');
  assert.equal(appended, `# Title\n\nIntro.\n\n## Parameters\n\n${README_START}\nTABLE\n${README_END}\n`);
  const replaced = replaceBetweenMarkers(`${appended}\n## After\n`, README_START, README_END, 'NEW', '## Parameters');
  assert.equal(replaced, `# Title\n\nIntro.\n\n## Parameters\n\n${README_START}\nNEW\n${README_END}\n\n## After\n`);
  assert.equal(replaceBetweenMarkers(replaced, README_START, README_END, 'NEW'), replaced, 'idempotent');
  assert.equal(replaceBetweenMarkers('no newline', README_START, README_END, 'T'), `no newline\n\n${README_START}\nT\n${README_END}\n`);
});

test("info.repositoryUrl comes from package.json's repository, in the forms npm accepts", () => {
  const url = 'https://github.com/example/dendritic';
  for (const repository of [
    'git+https://github.com/example/dendritic.git',
    { type: 'git', url: 'git+https://github.com/example/dendritic.git' },
    'github:example/dendritic',
    'example/dendritic',
  ]) {
    assert.equal(packageRepositoryUrl({ repository }), url, JSON.stringify(repository));
  }
  assert.equal(packageRepositoryUrl({}), undefined);
  assert.equal(buildParametersJson(url).info.repositoryUrl, url);
  assert.equal('repositoryUrl' in buildParametersJson(undefined).info, false);
  const pkg = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as unknown;
  assert.equal(buildParametersJson().info.repositoryUrl, packageRepositoryUrl(pkg));
});
