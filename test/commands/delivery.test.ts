/**
 * Issue "parameters never arrive": every parameter, passed the way Edge Impulse passes it with a
 * non-default value, must reach the component that uses it. effective-config.json records for each
 * parameter the value read back from the component the run built (`applied`), next to the parsed value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA, type ParamSpec } from '../../src/params/schema.js';
import { edgeImpulseArgv, nonDefaultValue } from '../../src/params/values.js';
import { runCli, tempDir, writeEiDirectory } from '../helpers/ei-data.js';

/** Parameters whose delivery is proven by other tests: paths every run uses, and --resume (robustness tests). */
const COVERED_ELSEWHERE = new Set(['data-directory', 'out-directory', 'info-file', 'resume']);

/** How the component reports a value when it is not the value itself. */
function expectedApplied(spec: ParamSpec, value: unknown): unknown {
  if (spec.param === 'export-format')
    return value === 'all'
      ? ['model.onnx', 'model.tflite', 'model_quantized_int8_io.tflite']
      : value === 'onnx'
        ? ['model.onnx']
        : ['model.tflite', 'model_quantized_int8_io.tflite'];
  return value;
}

test('every parameter with a non-default value reaches the component that uses it', () => {
  const { dir, cleanup } = tempDir('delivery-');
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { features: 26, classes: 3, trainRows: 36, valRows: 12 });
    const specs = SCHEMA.filter((s) => !COVERED_ELSEWHERE.has(s.param));
    assert.ok(specs.length >= 30, `only ${specs.length} parameters under test`);
    const failures: string[] = [];
    for (const spec of specs) {
      const value = nonDefaultValue(spec);
      const out = join(dir, `out-${spec.param}`);
      // Few epochs keep 35+ runs fast; --epochs itself is tested with its own non-default value.
      const base = ['train', '--data-directory', data, '--out-directory', out];
      if (spec.param !== 'epochs') base.push('--epochs', '3');
      const argv = [...base, ...edgeImpulseArgv(spec, value)];
      const r = runCli(argv, { timeoutMs: 60_000 });
      if (r.code !== 0) {
        failures.push(`--${spec.param} ${JSON.stringify(value)}: exit ${r.code}: ${r.stderr.trim().split('\n').at(-1)}`);
        continue;
      }
      const cfg = JSON.parse(readFileSync(join(out, 'effective-config.json'), 'utf8')) as Record<
        string,
        { value: unknown; source: string; applied?: unknown; consumer?: string }
      >;
      const entry = cfg[spec.param];
      if (!entry) {
        failures.push(`--${spec.param}: missing from effective-config.json`);
        continue;
      }
      if (entry.source !== 'cli') failures.push(`--${spec.param}: source ${entry.source}, expected cli`);
      if (!('applied' in entry)) failures.push(`--${spec.param}: no component reported using it`);
      else if (JSON.stringify(entry.applied) !== JSON.stringify(expectedApplied(spec, value))) {
        failures.push(`--${spec.param}: passed ${JSON.stringify(value)}, ${entry.consumer} used ${JSON.stringify(entry.applied)}`);
      }
    }
    assert.deepEqual(failures, []);
  } finally {
    cleanup();
  }
});
