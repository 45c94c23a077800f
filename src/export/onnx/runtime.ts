/**
 * Runs an exported .onnx model with onnxruntime (CPU), the way Edge Impulse feeds it: one window at a
 * time, float32 `input` [1, F] in, `output` [1, classes] out.
 *
 * The runtime is onnxruntime-web's WebAssembly backend (ONNX Runtime's own CPU kernels compiled to wasm),
 * not onnxruntime-node: it has no install script (onnxruntime-node's downloads CUDA binaries from NuGet
 * on Linux x64 and fails offline, in a consumer's `npm install` too, where our package.json's settings do
 * not apply) and no per-platform binaries (onnxruntime-node ships 288 MB for six platforms), so it runs
 * wherever Node runs. One wasm thread: the same result every run.
 *
 * It runs in a worker thread of its own, started on first use: compiling its 14 MB of wasm takes 0.3-1 s,
 * and `train` starts it (warmOnnxRuntime) before training, so that compile happens on another core while
 * training runs instead of inside the export margin of a time-limited job. The worker is unref'd while idle.
 */
import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-web';
import { userError } from '../../errors.js';
import { startModuleWorker } from '../../util/worker.js';
import { ONNX_INPUT_NAME, ONNX_IR_VERSION, ONNX_OPSET, ONNX_OUTPUT_NAME } from './exporter.js';
import { encodeModel, OnnxDataType } from './proto.js';

const WORKER_TAG = 'dendritic-onnxruntime';

type Request = { id: number } & ({ kind: 'warm'; model: Uint8Array } | { kind: 'run'; model: Uint8Array; x: Float32Array; n: number; features: number });
type Reply = { id: number; runtime: string } & ({ ok: true; out: Float32Array } | { ok: false; message: string });

// ---- The calling thread -------------------------------------------------------------------------
let worker: Worker | undefined;
let nextId = 1;
let runtimeName: string | undefined;
const pending = new Map<number, { resolve: (out: Float32Array) => void; reject: (err: Error) => void }>();

function failAll(err: Error): void {
  for (const p of pending.values()) p.reject(err);
  pending.clear();
  worker = undefined;
}

function ortWorker(): Worker {
  if (worker) return worker;
  const w = startModuleWorker(import.meta.url, { tag: WORKER_TAG });
  w.unref();
  w.on('message', (m: Reply) => {
    if (m.runtime) runtimeName = m.runtime;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) w.unref();
    if (m.ok) p.resolve(m.out);
    else p.reject(new Error(m.message));
  });
  w.on('error', (err) => failAll(err));
  w.on('exit', (code) => failAll(new Error(`the ONNX runtime's worker thread exited (code ${code})`)));
  worker = w;
  return w;
}

type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

function request(body: RequestBody): Promise<Float32Array> {
  const w = ortWorker();
  const id = nextId++;
  w.ref(); // a pending answer keeps the process alive
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.postMessage({ ...body, id });
  });
}

/** A one-node model (Identity) whose session makes onnxruntime compile and start its wasm. */
function warmUpModel(): Uint8Array {
  const value = (name: string) => ({ name, type: { tensor_type: { elem_type: OnnxDataType.FLOAT, shape: { dim: [{ dim_value: 1 }] } } } });
  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    producer_name: 'dendritic',
    producer_version: 'warm-up',
    graph: {
      name: 'warm_up',
      node: [{ name: 'identity', op_type: 'Identity', input: ['x'], output: ['y'], attribute: [] }],
      initializer: [],
      input: [value('x')],
      output: [value('y')],
    },
    opset_import: [{ domain: '', version: ONNX_OPSET }],
  });
}

/** Starts loading onnxruntime in its worker thread now (train calls it before training); never throws. */
export function warmOnnxRuntime(): void {
  request({ kind: 'warm', model: warmUpModel() }).catch(() => {
    // A runtime that cannot start fails the first runOnnx, with its message.
  });
}

/** What runs ONNX models, for report.json's `verified_with`, e.g. 'onnxruntime-web 1.30.0 (wasm)'. */
export async function onnxRuntimeName(): Promise<string> {
  if (runtimeName === undefined) await request({ kind: 'warm', model: warmUpModel() });
  return runtimeName!;
}

/** Returns the model's outputs for the n samples of x ([n, features] row-major) as [n, classes]. */
export async function runOnnx(modelBytes: Uint8Array, x: Float32Array, n: number, features: number): Promise<Float32Array> {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(features) && features > 0)) {
    throw userError('runOnnx', 'n/features', `expected n >= 0 and features > 0, got ${n} and ${features}`);
  }
  if (x.length !== n * features) throw userError('runOnnx', 'x', `expected ${n} x ${features} = ${n * features} values, got ${x.length}`);
  return request({ kind: 'run', model: modelBytes, x, n, features });
}

// ---- The runtime's worker thread ----------------------------------------------------------------
if (!isMainThread && (workerData as { tag?: string } | null)?.tag === WORKER_TAG) {
  const ortLoaded = import('onnxruntime-web').then((ort) => {
    ort.env.wasm.numThreads = 1;
    return ort;
  });
  // One request at a time, in order.
  let queue: Promise<void> = Promise.resolve();
  parentPort!.on('message', (m: Request) => {
    queue = queue.then(async () => parentPort!.postMessage(await answer(m, ortLoaded)));
  });
}

async function answer(m: Request, ortLoaded: Promise<typeof Ort>): Promise<Reply> {
  let runtime = '';
  try {
    const ort = await ortLoaded;
    runtime = `onnxruntime-web ${ort.env.versions.web ?? ort.env.versions.common} (wasm)`;
    if (m.kind === 'warm') {
      await (await ort.InferenceSession.create(m.model)).release();
      return { id: m.id, runtime, ok: true, out: new Float32Array(0) };
    }
    return { id: m.id, runtime, ok: true, out: await runSession(ort, m.model, m.x, m.n, m.features) };
  } catch (err) {
    return { id: m.id, runtime, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

async function runSession(ort: typeof Ort, modelBytes: Uint8Array, x: Float32Array, n: number, features: number): Promise<Float32Array> {
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
