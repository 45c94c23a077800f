/** Issue 25's small CLI truths about help: no template placeholders in a help text; `help help` is the command list. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/ei-data.js';

test('experiment --help shows its real defaults, no template placeholders', () => {
  const r = runCli(['experiment', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\$\{/);
  assert.match(r.stdout, /--widths LIST +model widths, comma-separated \(default 0\.5,1,2\)/);
  assert.match(r.stdout, /--seeds N +seeds per configuration, from --seed on \(default 3\)/);
  assert.match(r.stdout, /--modes LIST +dendritic variants: gd, correlation, frozen, restarts, shipped, shipped-merged \(default gd,correlation\)/);
  assert.match(r.stdout, /default 1\)/);
});

test('no command help holds a template placeholder', () => {
  for (const command of ['train', 'features', 'demo', 'predict', 'experiment', 'sweep', 'worker', 'report']) {
    const r = runCli(['help', command]);
    assert.equal(r.code, 0, `${command}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /\$\{/, command);
  }
});

test('help help (and help --help) print the command list, as help does', () => {
  const list = runCli(['help']);
  assert.equal(list.code, 0);
  for (const args of [
    ['help', 'help'],
    ['help', '--help'],
  ]) {
    const r = runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, list.stdout);
    assert.match(r.stdout, /^Usage: dendritic <command>/);
  }
});
