/** Issue 25: --json-logs gives the effective configuration as one JSON object, not a table of info lines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';

test('train --json-logs: the configuration is one {"type": "config"} object with the values of effective-config.json; epochs carry best and ETA', () => {
  const { dir, cleanup } = tempDir('json-logs');
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 60, valRows: 30 });
    const out = join(dir, 'out');
    const r = runCli(['train', '--data-directory', data, '--out-directory', out, '--epochs', '3', '--dendrites', '0', '--json-logs'], {
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const objects = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const configs = objects.filter((o) => o.type === 'config');
    assert.equal(configs.length, 1);
    // effective-config.json's values and sources (the file adds where each value was applied)
    const file = JSON.parse(readFileSync(join(out, 'effective-config.json'), 'utf8')) as Record<string, { value: unknown; source: string }>;
    assert.deepEqual(configs[0]!.config, Object.fromEntries(Object.entries(file).map(([k, v]) => [k, { value: v.value, source: v.source }])));
    assert.deepEqual((configs[0]!.config as Record<string, unknown>).epochs, { value: 3, source: 'cli' });
    assert.ok(!objects.some((o) => o.type === 'info' && /Effective configuration|^ {2}--/.test(String(o.message))), 'no table lines');
    const epochs = objects.filter((o) => o.type === 'epoch');
    assert.equal(epochs.length, 3);
    assert.equal(epochs[2]!.eta_seconds, 0);
    assert.ok(typeof epochs[0]!.eta_seconds === 'number' && typeof epochs[0]!.best_val_acc === 'number' && epochs[0]!.best_epoch === 1);
  } finally {
    cleanup();
  }
});
