/**
 * Runs an exported .onnx model with onnxruntime (CPU), the way Edge Impulse feeds it: one window at a
 * time, float32 `input` [1, F] in, `output` [1, classes] out.
 *
 * The runtime is onnxruntime-web's WebAssembly backend (ONNX Runtime's own CPU kernels compiled to wasm),
 * not onnxruntime-node: it has no install script (onnxruntime-node's downloads CUDA binaries from NuGet
 * on Linux x64 and fails offline, in a consumer's `npm install` too, where our package.json's settings do
 * not apply) and no per-platform binaries (onnxruntime-node ships 288 MB for six platforms), so it runs
 * wherever Node runs. One thread: no worker threads to start or leave behind, the same result every run.
 * Loaded on first use, so commands that never run an ONNX model do not pay for it.
 */
import type * as Ort from 'onnxruntime-web';
import { userError } from '../../errors.js';
import { ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './exporter.js';

let loaded: Promise<typeof Ort> | undefined;

function onnxruntime(): Promise<typeof Ort> {
  loaded ??= import('onnxruntime-web').then((ort) => {
    ort.env.wasm.numThreads = 1;
    return ort;
  });
  return loaded;
}

/** What runs ONNX models, for report.json's `verified_with`, e.g. 'onnxruntime-web 1.30.0 (wasm)'. */
export async function onnxRuntimeName(): Promise<string> {
  const ort = await onnxruntime();
  return `onnxruntime-web ${ort.env.versions.web ?? ort.env.versions.common} (wasm)`;
}

/** Returns the model's outputs for the n samples of x ([n, features] row-major) as [n, classes]. */
export async function runOnnx(modelBytes: Uint8Array, x: Float32Array, n: number, features: number): Promise<Float32Array> {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(features) && features > 0)) {
    throw userError('runOnnx', 'n/features', `expected n >= 0 and features > 0, got ${n} and ${features}`);
  }
  if (x.length !== n * features) throw userError('runOnnx', 'x', `expected ${n} x ${features} = ${n * features} values, got ${x.length}`);
  const ort = await onnxruntime();
  const session = await ort.InferenceSession.create(modelBytes, { graphOptimizationLevel: 'all' });
  try {
    let out: Float32Array | undefined;
    let classes = 0;
    for (let s = 0; s < n; s++) {
      const sample = new ort.Tensor('float32', x.slice(s * features, (s + 1) * features), [1, features]);
      const result = await session.run({ [ONNX_INPUT_NAME]: sample });
      const y = result[ONNX_OUTPUT_NAME];
      if (!y || y.type !== 'float32') throw new Error(`runOnnx: the model has no float32 output '${ONNX_OUTPUT_NAME}'`);
      const data = y.data as Float32Array;
      if (out === undefined) {
        classes = data.length;
        out = new Float32Array(n * classes);
      } else if (data.length !== classes) {
        throw new Error(`runOnnx: sample ${s} gave ${data.length} outputs, earlier samples ${classes}`);
      }
      out.set(data, s * classes);
    }
    return out ?? new Float32Array(0);
  } finally {
    await session.release();
  }
}
