/**
 * The Docker image's ENTRYPOINT, run exactly as Edge Impulse runs it: the data, out and info-file
 * arguments plus every parameter of parameters.json in Edge Impulse's passing style, and the legacy
 * extras its local runner adds. (No Docker engine runs here; the command line is the contract.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir, writeEiDirectory } from '../helpers/ei-data.js';

interface BlockParameter {
  param: string;
  type: string;
  value: string | number | boolean;
}

/** Edge Impulse's passing rules (docs: edge-impulse-block.md, "How the script is called"). */
function passAsEdgeImpulse(p: BlockParameter): string[] {
  switch (p.type) {
    case 'flag':
      return p.value ? [`--${p.param}`] : [];
    case 'boolean':
      return [`--${p.param}`, p.value ? '1' : '0'];
    default:
      return [`--${p.param}`, String(p.value)];
  }
}

function entrypoint(): string[] {
  const line = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT'));
  assert.ok(line, 'Dockerfile has an ENTRYPOINT');
  const argv = JSON.parse(line.slice('ENTRYPOINT'.length).trim()) as string[];
  assert.deepEqual(argv, ['node', '/app/dist/cli.js', 'train']);
  // /app is the image's WORKDIR holding this repository's build
  return argv.map((a) => a.replace('/app/', `${REPO_ROOT}/`));
}

test('the ENTRYPOINT trains, exports and verifies with the full Edge Impulse argument list', () => {
  const { dir, cleanup } = tempDir('entrypoint-');
  try {
    const data = join(dir, 'home');
    mkdirSync(data);
    writeEiDirectory(data, { features: 39, classes: 3, trainRows: 60, valRows: 21 });
    const info = join(data, 'train_input.json');
    writeFileSync(
      info,
      JSON.stringify({
        classes: ['left', 'right', 'up'],
        mode: 'classification',
        inputShapeString: '(39,)',
        yType: 'npy',
        trainTestSplit: 0.8,
        convertInt8: true,
      }),
    );
    const params = (JSON.parse(readFileSync(join(REPO_ROOT, 'parameters.json'), 'utf8')) as { parameters: BlockParameter[] }).parameters;
    const userValues: Record<string, string | number | boolean> = { epochs: 4, 'export-format': 'all' };
    const [cmd, ...args] = entrypoint();
    const argv = [
      ...args,
      '--data-directory',
      data,
      '--out-directory',
      join(data, 'out'),
      '--info-file',
      info,
      ...params.flatMap((p) => passAsEdgeImpulse({ ...p, value: userValues[p.param] ?? p.value })),
      '--validation-set-size',
      '0.2',
      '--input-shape',
      '(39,)',
    ];
    const r = spawnSync(cmd!, argv, { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr + r.stdout, /unknown.*--validation-set-size.*--input-shape/is);
    const out = join(data, 'out');
    for (const f of ['model.onnx', 'model.tflite', 'model_quantized_int8_io.tflite', 'report.json', 'report.html', 'effective-config.json']) {
      assert.ok(existsSync(join(out, f)), `${f} written`);
    }
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      data: { classes: string[] };
      exports: { format: string; argmax_agreement: number }[];
    };
    assert.deepEqual(report.data.classes, ['left', 'right', 'up']);
    assert.deepEqual(report.exports.map((e) => e.format).sort(), ['engine', 'onnx', 'tflite-float', 'tflite-int8']);
    const cfg = JSON.parse(readFileSync(join(out, 'effective-config.json'), 'utf8')) as Record<string, { source: string }>;
    for (const p of params) assert.equal(cfg[p.param]?.source, 'cli', `--${p.param} arrived from the command line`);
  } finally {
    cleanup();
  }
});
