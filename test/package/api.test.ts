/**
 * The library's train() (src/index.ts): parameters typed from the schema (a misspelt name is a compile
 * error and, from JavaScript, a UserError before any work), and nothing written to the host's stdout or
 * stderr unless a `log` callback is given. The host is a child process, so its streams can be checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { train, UserError, type TrainParameters } from '../../src/index.js';
import { REPO_ROOT, tempDir, writeEiDirectory } from '../helpers/ei-data.js';

test('train(): a misspelt or mistyped parameter is a UserError naming it, before anything is written', async () => {
  const { dir, cleanup } = tempDir('api-typo');
  try {
    const out = join(dir, 'out');
    // @ts-expect-error -- 'epoch' is not a parameter: the compile error is the first line of defence
    const typo: TrainParameters = { epoch: 2 };
    await assert.rejects(train({ dataDirectory: dir, outDirectory: out, parameters: typo }), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, "train(): parameters.epoch: not a parameter; did you mean 'epochs'? (the camelCase names of docs/parameters.md)");
      return true;
    });
    // @ts-expect-error -- the flag's spelling is not the API's
    const flagName: TrainParameters = { 'learning-rate': 0.01 };
    await assert.rejects(
      train({ dataDirectory: dir, outDirectory: out, parameters: flagName }),
      /parameters\.learning-rate: not a parameter; did you mean 'learningRate'\?/,
    );
    // @ts-expect-error -- a string where the schema says number
    await assert.rejects(train({ dataDirectory: dir, outDirectory: out, parameters: { epochs: '2' } }), /parameters\.epochs: expected a number, got "2"/);
    // @ts-expect-error -- output goes to options.log, there is no quiet switch
    const quiet: TrainParameters = { quiet: true };
    await assert.rejects(
      train({ dataDirectory: dir, outDirectory: out, parameters: quiet }),
      /parameters\.quiet: not a parameter; train\(\) prints nothing unless options\.log is given/,
    );
    assert.equal(existsSync(out), false, 'nothing written');
  } finally {
    cleanup();
  }
});

test('train() writes nothing to stdout/stderr without log; with log every line goes there, the summary included', { timeout: 180_000 }, () => {
  const { dir, cleanup } = tempDir('api-quiet');
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    writeEiDirectory(data, { trainRows: 60, valRows: 30, seed: 5 });
    const script = join(dir, 'host.mts');
    const api = pathToFileURL(join(REPO_ROOT, 'src/index.ts')).href;
    writeFileSync(
      script,
      [
        "import { writeFileSync } from 'node:fs';",
        `import { train } from '${api}';`,
        'const mode = process.argv[2]!;',
        'const lines: string[] = [];',
        `const r = await train({ dataDirectory: ${JSON.stringify(data)}, outDirectory: ${JSON.stringify(join(dir, 'out-'))} + mode,`,
        "  parameters: { epochs: 2, dendrites: false, exportFormat: 'all', improvementThreshold: [0.002, 0.0005] },",
        "  ...(mode === 'log' ? { log: (l: string) => lines.push(l) } : {}) });",
        'process.exitCode = r.exitCode === 0 && r.report?.effective_config.epochs?.value === 2 ? 0 : 3;',
        `if (mode === 'log') writeFileSync(${JSON.stringify(join(dir, 'lines.json'))}, JSON.stringify(lines));`,
        '',
      ].join('\n'),
    );
    for (const mode of ['quiet', 'log']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, mode], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 150_000 });
      assert.equal(r.status, 0, `${mode}: exit ${r.status}\n${r.stderr}`);
      assert.equal(r.stdout, '', `${mode}: nothing on the host's stdout`);
      assert.equal(r.stderr, '', `${mode}: nothing on the host's stderr`);
      assert.ok(existsSync(join(dir, `out-${mode}`, 'model.onnx')), `${mode}: model.onnx written`);
    }
    const lines = JSON.parse(readFileSync(join(dir, 'lines.json'), 'utf8')) as string[];
    assert.ok(
      lines.some((l) => /^done: val_acc /.test(l)),
      `the summary reached log: ${lines.slice(-3).join(' | ')}`,
    );
    assert.ok(
      lines.some((l) => /epochs\s+2\b/.test(l)),
      'the effective configuration reached log',
    );
    assert.ok(
      lines.every((l) => !l.includes('\n')),
      'one line per call',
    );
  } finally {
    cleanup();
  }
});
