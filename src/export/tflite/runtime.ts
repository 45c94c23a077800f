/**
 * Runs a .tflite model with a real TensorFlow Lite interpreter (node-tflite: the TFLite 2.2 C library
 * with its builtin float and int8 kernels), one window at a time as Edge Impulse's SDK does.
 *
 * Float features go in and probabilities come out for both kinds of model: for an int8-I/O model the
 * features are quantised with the input tensor's scale/zero-point (read from the file) and the int8
 * outputs dequantised, exactly what a device application does around the int8 model.
 */
import { createRequire } from 'node:module';
import { userError } from '../../errors.js';
import { readTfliteIo, TensorType, type TensorInfo } from './schema.js';

type NodeTflite = typeof import('node-tflite');
const require = createRequire(import.meta.url);
let runtime: NodeTflite | undefined;

function loadRuntime(): NodeTflite {
  if (runtime === undefined) {
    try {
      runtime = require('node-tflite') as NodeTflite;
    } catch (err) {
      // node-tflite links a TensorFlow Lite library it ships for x86-64 only, built at install by node-gyp.
      const why =
        process.arch === 'x64'
          ? 'its addon was not built at install (node-gyp: python3, make and g++ needed; `npm rebuild node-tflite`)'
          : `it ships a TensorFlow Lite library for x86-64 only, and this is ${process.platform}-${process.arch}`;
      throw new Error(
        `the TensorFlow Lite interpreter (node-tflite) cannot be loaded: ${why}. Every .tflite file is measured with it before it is written. (${(err as Error).message.split('\n')[0]})`,
      );
    }
  }
  return runtime;
}

/** Returns the model's outputs for the n samples of x ([n, features] row-major) as float [n, classes]. */
export async function runTflite(modelBytes: Uint8Array, x: Float32Array, n: number, features: number): Promise<Float32Array> {
  return Promise.resolve().then(() => runTfliteSync(modelBytes, x, n, features));
}

export function runTfliteSync(modelBytes: Uint8Array, x: Float32Array, n: number, features: number): Float32Array {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(features) && features > 0)) {
    throw userError('runTflite', 'n/features', `expected n >= 0 and features > 0, got ${n} and ${features}`);
  }
  if (x.length !== n * features) throw userError('runTflite', 'x', `expected ${n} x ${features} = ${n * features} values, got ${x.length}`);
  const io = readTfliteIo(modelBytes);
  const inInfo = single(io.inputs, 'input');
  const outInfo = single(io.outputs, 'output');
  const inCount = inInfo.shape.reduce((a, b) => a * b, 1);
  if (inCount !== features)
    throw userError('runTflite', 'features', `the model's input [${inInfo.shape.join(', ')}] holds ${inCount} values, not ${features}`);
  const classes = outInfo.shape.reduce((a, b) => a * b, 1);

  // node-tflite wraps `model.buffer` whole: hand it a buffer that holds exactly the model.
  const { Interpreter } = loadRuntime();
  const interpreter = new Interpreter(modelBytes.slice(), { numThreads: 1 });
  interpreter.allocateTensors();
  const input = interpreter.inputs[0]!;
  const output = interpreter.outputs[0]!;
  const inBuf = makeBuffer(inInfo, inCount);
  const outBuf = makeBuffer(outInfo, classes);
  const out = new Float32Array(n * classes);
  for (let s = 0; s < n; s++) {
    const row = x.subarray(s * features, (s + 1) * features);
    if (inBuf instanceof Float32Array) inBuf.set(row);
    else quantizeInto(row, inBuf, inInfo);
    input.copyFrom(inBuf);
    interpreter.invoke();
    output.copyTo(outBuf);
    for (let c = 0; c < classes; c++) {
      out[s * classes + c] = outBuf instanceof Float32Array ? outBuf[c]! : (outBuf[c]! - outInfo.zeroPoint!) * outInfo.scale!;
    }
  }
  return out;
}

function single(list: TensorInfo[], what: string): TensorInfo {
  if (list.length !== 1) throw new Error(`runTflite: expected one ${what} tensor, the model has ${list.length}`);
  return list[0]!;
}

function makeBuffer(info: TensorInfo, count: number): Float32Array | Int8Array {
  if (info.type === TensorType.FLOAT32) return new Float32Array(count);
  if (info.type === TensorType.INT8) {
    if (info.scale === undefined || info.zeroPoint === undefined) throw new Error(`runTflite: int8 tensor '${info.name}' has no quantization`);
    return new Int8Array(count);
  }
  throw new Error(`runTflite: tensor '${info.name}' has type ${info.type}; only float32 and int8 I/O are supported`);
}

/**
 * q = clamp(round(x / scale) + zero_point, -128, 127) exactly as the device computes it: Edge Impulse's
 * SDK (pre_cast_quantize in classifier/ei_quantize.h) divides in float32, rounds half away from zero,
 * adds the zero point and clamps. The quotient is rounded to float32 first (fround of the double
 * quotient of two float32 values is the float32 quotient), so a row whose value lands near a half step
 * quantizes as on the device.
 */
export function quantizeInto(x: ArrayLike<number>, out: Int8Array, info: { scale?: number; zeroPoint?: number }): void {
  const scale = Math.fround(info.scale!);
  const zp = info.zeroPoint!;
  for (let i = 0; i < x.length; i++) out[i] = Math.min(127, Math.max(-128, roundHalfAway(Math.fround(Math.fround(x[i]!) / scale)) + zp));
}

/** std::round: halves go away from zero (Math.round sends -2.5 to -2). */
export function roundHalfAway(v: number): number {
  return Math.sign(v) * Math.round(Math.abs(v));
}
