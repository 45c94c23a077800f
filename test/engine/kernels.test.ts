/**
 * The native kernels (native/kernels.cc) against the pure-JS reference kernels on random shapes,
 * edge sizes included: elementwise kernels bit for bit, matrix products to float32 rounding; then whole
 * training steps with each backend. The AVX2 and the generic native paths are both checked: the
 * generic one in a child process started with DENDRITIC_ISA=generic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jsKernels, kernels, nativeIsa, nativeKernels, nativeUnavailable, useKernels, type Kernels } from '../../src/engine/kernels.js';
import { Rng } from '../../src/engine/rng.js';
import { Sequential } from '../../src/engine/model.js';
import { Conv1D, Conv2D } from '../../src/engine/layers/conv.js';
import { ReLU } from '../../src/engine/layers/activation.js';
import { MaxPool1D, MaxPool2D } from '../../src/engine/layers/pool.js';
import { Dropout } from '../../src/engine/layers/dropout.js';
import { Flatten } from '../../src/engine/layers/reshape.js';
import { Dense } from '../../src/engine/layers/dense.js';
import { Adam } from '../../src/engine/optim.js';
import { softmaxCrossEntropy } from '../../src/engine/loss.js';
import { axisPadding } from '../../src/engine/padding.js';
import { randomArray } from './gradcheck.js';

const child = process.env.DENDRITIC_KERNELS_TEST_CHILD === '1';
// `npm ci` builds the addon, so a missing one is a failure here (the tests below then throw), not a
// reason to skip; only a run that chose the JS kernels on purpose (DENDRITIC_KERNELS=js) skips them.
const skip: string | false =
  nativeKernels === null && process.env.DENDRITIC_KERNELS === 'js' ? `DENDRITIC_KERNELS=js: native kernels not loaded (${nativeUnavailable})` : false;

test('the native kernels addon is built and loaded (npm ci compiles native/ with node-gyp)', { skip }, () => {
  assert.ok(nativeKernels !== null, `native kernels unavailable: ${nativeUnavailable}; run npm run build:native`);
});
const N = nativeKernels as Kernels;
const J = jsKernels;

function sameBits(what: string, a: Float32Array | Int32Array, b: Float32Array | Int32Array): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) {
    if (ua[i] !== ub[i]) assert.fail(`${what}[${i}]: native ${a[i]} vs js ${b[i]}`);
  }
}

/** C = init + op(A).op(B) in float64, with the magnitude sum |init| + sum |a||b| per entry for the tolerance. */
function reference(
  M: number,
  Nn: number,
  K: number,
  a: (i: number, k: number) => number,
  b: (k: number, j: number) => number,
  init: (i: number, j: number) => number,
): { c: Float64Array; mag: Float64Array } {
  const c = new Float64Array(M * Nn);
  const mag = new Float64Array(M * Nn);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < Nn; j++) {
      let s = init(i, j);
      let m = Math.abs(s);
      for (let k = 0; k < K; k++) {
        const p = a(i, k) * b(k, j);
        s += p;
        m += Math.abs(p);
      }
      c[i * Nn + j] = s;
      mag[i * Nn + j] = m;
    }
  }
  return { c, mag };
}

function closeTo(what: string, got: Float32Array, want: { c: Float64Array; mag: Float64Array }): void {
  for (let i = 0; i < want.c.length; i++) {
    const err = Math.abs(got[i]! - want.c[i]!);
    if (!(err <= 2e-6 * want.mag[i]! + 1e-30)) assert.fail(`${what}[${i}]: ${got[i]} vs ${want.c[i]} (magnitude ${want.mag[i]})`);
  }
}

const SIZES = [1, 2, 3, 5, 7, 8, 9, 12, 15, 16, 17, 24, 33];

test('gemm, gemmTN, gemmNT: native and JS agree with a float64 reference (edge sizes, K chunks, bias, accumulate)', { skip }, () => {
  const rng = new Rng(11);
  const shapes: [number, number, number][] = [];
  for (const M of SIZES) for (const Nn of SIZES) shapes.push([M, Nn, SIZES[(M * 7 + Nn) % SIZES.length]!]);
  shapes.push([1600, 8, 39], [39, 8, 1600], [800, 96, 64], [32, 12, 832], [13, 20, 257], [6, 16, 513], [0, 4, 3], [4, 4, 0]);
  for (const [M, Nn, K] of shapes) {
    for (const op of ['gemm', 'gemmTN', 'gemmNT'] as const) {
      for (const mode of ['zero', 'bias', 'accumulate'] as const) {
        if (mode === 'bias' && op !== 'gemm') continue;
        const A = randomArray(rng, M * K);
        const B = randomArray(rng, K * Nn);
        const C0 = randomArray(rng, M * Nn);
        const bias = randomArray(rng, Nn);
        const a = op === 'gemmTN' ? (i: number, k: number) => A[k * M + i]! : (i: number, k: number) => A[i * K + k]!;
        const b = op === 'gemmNT' ? (k: number, j: number) => B[j * K + k]! : (k: number, j: number) => B[k * Nn + j]!;
        const init = mode === 'accumulate' ? (i: number, j: number) => C0[i * Nn + j]! : mode === 'bias' ? (_i: number, j: number) => bias[j]! : () => 0;
        const want = reference(M, Nn, K, a, b, init);
        for (const [tag, impl] of [
          ['native', N],
          ['js', J],
        ] as const) {
          const C = C0.slice();
          if (op === 'gemm') impl.gemm(M, Nn, K, A, B, C, mode === 'accumulate', mode === 'bias' ? bias : undefined);
          else impl[op](M, Nn, K, A, B, C, mode === 'accumulate');
          closeTo(`${tag} ${op} ${M}x${Nn}x${K} ${mode}`, C, want);
        }
      }
    }
  }
});

test('addColumnSums: identical', { skip }, () => {
  const rng = new Rng(3);
  for (const [rows, n] of [
    [1, 1],
    [7, 3],
    [800, 16],
    [33, 12],
  ] as const) {
    const m = randomArray(rng, rows * n);
    const a = randomArray(rng, n);
    const b = a.slice();
    N.addColumnSums(rows, n, m, a);
    J.addColumnSums(rows, n, m, b);
    sameBits(`addColumnSums ${rows}x${n}`, a, b);
  }
});

type Geometry = [number, number, number, number, number, number, number, number, number, number, number, number];

/** Random window geometries: 1-D and 2-D, kernels 1..4, strides 1..3, same/valid padding. */
function geometries(rng: Rng, count: number): Geometry[] {
  const out: Geometry[] = [];
  while (out.length < count) {
    const twoD = rng.next() < 0.5;
    const n = 1 + rng.int(3);
    const h = twoD ? 1 + rng.int(7) : 1;
    const w = 1 + rng.int(11);
    const c = 1 + rng.int(9);
    const kh = twoD ? 1 + rng.int(4) : 1;
    const kw = 1 + rng.int(4);
    const sh = twoD ? 1 + rng.int(3) : 1;
    const sw = 1 + rng.int(3);
    const padding = rng.next() < 0.5 ? 'same' : 'valid';
    const ph = axisPadding(h, kh, sh, padding);
    const pw = axisPadding(w, kw, sw, padding);
    if (ph.out < 1 || pw.out < 1) continue;
    out.push([n, h, w, c, ph.out, pw.out, ph.before, pw.before, kh, kw, sh, sw]);
  }
  out.push([32, 1, 50, 13, 1, 50, 0, 1, 1, 3, 1, 1], [32, 1, 25, 8, 1, 13, 0, 0, 1, 2, 1, 2]);
  return out;
}

test('im2col and col2im: identical on random geometries (padding, strides, 1-D and 2-D)', { skip }, () => {
  const rng = new Rng(5);
  for (const g of geometries(rng, 200)) {
    const [n, h, w, c, ho, wo, , , kh, kw] = g;
    const x = randomArray(rng, n * h * w * c);
    const colsLen = n * ho * wo * kh * kw * c;
    // Stale contents must not leak through: both kernels overwrite every cell.
    const a = randomArray(rng, colsLen);
    const b = randomArray(rng, colsLen);
    N.im2col(x, a, ...g);
    J.im2col(x, b, ...g);
    sameBits(`im2col ${g.join(',')}`, a, b);
    const dcols = randomArray(rng, colsLen);
    const dxa = randomArray(rng, x.length);
    const dxb = randomArray(rng, x.length);
    N.col2im(dcols, dxa, ...g);
    J.col2im(dcols, dxb, ...g);
    sameBits(`col2im ${g.join(',')}`, dxa, dxb);
  }
});

test('maxPool and its backward: identical values and argmax, ties and NaN included', { skip }, () => {
  const rng = new Rng(7);
  for (const g of geometries(rng, 200)) {
    const [n, h, w, c, ho, wo] = g;
    // Few distinct values, so windows tie often; a NaN now and then.
    const x = Float32Array.from({ length: n * h * w * c }, () => (rng.next() < 0.03 ? NaN : rng.int(4) - 2));
    const yl = n * ho * wo * c;
    const ya = new Float32Array(yl),
      yb = new Float32Array(yl);
    const aa = new Int32Array(yl),
      ab = new Int32Array(yl);
    N.maxPool(x, ya, aa, ...g);
    J.maxPool(x, yb, ab, ...g);
    sameBits(`maxPool y ${g.join(',')}`, ya, yb);
    sameBits(`maxPool argmax ${g.join(',')}`, aa, ab);
    const dy = randomArray(rng, yl);
    const dxa = randomArray(rng, x.length),
      dxb = randomArray(rng, x.length);
    N.maxPoolBackward(dy, aa, dxa);
    J.maxPoolBackward(dy, ab, dxb);
    sameBits(`maxPoolBackward ${g.join(',')}`, dxa, dxb);
  }
});

test('relu, reluBackward, mul, dropout, adam: identical (signed zeros, NaN, rng state)', { skip }, () => {
  const rng = new Rng(9);
  for (const n of [1, 3, 8, 17, 1000, 12800]) {
    const x = randomArray(rng, n);
    if (n > 3) {
      x[0] = -0;
      x[1] = NaN;
      x[2] = 0;
    }
    const dy = randomArray(rng, n);
    const pairs = (f: (k: Kernels, out: Float32Array) => void, what: string): void => {
      const a = new Float32Array(n),
        b = new Float32Array(n);
      f(N, a);
      f(J, b);
      sameBits(`${what} n=${n}`, a, b);
    };
    pairs((k, out) => k.relu(x, out), 'relu');
    pairs((k, out) => k.reluBackward(x, dy, out), 'reluBackward');
    pairs((k, out) => k.mul(x, dy, out), 'mul');
    for (const rate of [0.1, 0.25, 0.5, 0.9]) {
      const keep = 1 - rate;
      const ra = new Rng(n),
        rb = new Rng(n);
      const ya = new Float32Array(n),
        yb = new Float32Array(n),
        ma = new Float32Array(n),
        mb = new Float32Array(n);
      N.dropout(x, ya, ma, keep, 1 / keep, ra);
      J.dropout(x, yb, mb, keep, 1 / keep, rb);
      sameBits(`dropout y n=${n} rate=${rate}`, ya, yb);
      sameBits(`dropout mask n=${n} rate=${rate}`, ma, mb);
      assert.deepEqual(ra.getState(), rb.getState(), `dropout rng state n=${n}`);
    }
    const w0 = randomArray(rng, n),
      g = randomArray(rng, n, 3),
      m0 = randomArray(rng, n, 0.1);
    const v0 = Float32Array.from(randomArray(rng, n, 0.1), Math.abs);
    const state = [w0.slice(), m0.slice(), v0.slice(), w0.slice(), m0.slice(), v0.slice()] as const;
    N.adam(state[0], g, state[1], state[2], 0.9, 0.999, 0.01 / 0.1, Math.sqrt(0.001), 1e-7);
    J.adam(state[3], g, state[4], state[5], 0.9, 0.999, 0.01 / 0.1, Math.sqrt(0.001), 1e-7);
    sameBits(`adam w n=${n}`, state[0], state[3]);
    sameBits(`adam m n=${n}`, state[1], state[4]);
    sameBits(`adam v n=${n}`, state[2], state[5]);
  }
});

test('dendrite helpers: addScaled, channelDot, addInto, relu identical; sigmoid/tanh within an ulp', { skip }, () => {
  const rng = new Rng(13);
  for (const [rows, C] of [
    [1, 1],
    [3, 7],
    [50, 8],
    [13, 64],
    [800, 12],
  ] as const) {
    const n = rows * C;
    const src = randomArray(rng, n, 3);
    const other = randomArray(rng, n);
    const scale = randomArray(rng, C);
    const acc = randomArray(rng, n);
    const both = (f: (k: Kernels, out: Float32Array) => void, init: Float32Array): [Float32Array, Float32Array] => {
      const a = init.slice(),
        b = init.slice();
      f(N, a);
      f(J, b);
      return [a, b];
    };
    sameBits(`addScaled ${rows}x${C}`, ...both((k, o) => k.addScaled(o, src, scale, C), acc));
    sameBits(`channelDot ${rows}x${C}`, ...both((k, o) => k.channelDot(src, other, o, C), scale));
    sameBits(`addInto ${rows}x${C}`, ...both((k, o) => k.addInto(o, src), acc));
    const pre = src.slice();
    if (n > 4) {
      pre[0] = -0;
      pre[1] = NaN;
      pre[2] = 100;
      pre[3] = -100;
    }
    for (const f of ['sigmoid', 'tanh', 'relu'] as const) {
      const [da, db] = both((k, o) => k.activate(f, o), pre);
      const [ga, gb] = both((k, o) => k.activationBackward(f, db, o), other);
      if (f === 'relu') {
        sameBits(`activate relu ${n}`, da, db);
        sameBits(`activationBackward relu ${n}`, ga, gb);
        continue;
      }
      for (let i = 0; i < n; i++) {
        const ulp = (v: number): number => Math.max(Math.abs(v) * 2 ** -23, 2 ** -149);
        const ok = (x: number, y: number): boolean => (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= ulp(y);
        assert.ok(ok(da[i]!, db[i]!), `${f}(${pre[i]}): native ${da[i]} vs js ${db[i]}`);
        assert.ok(ok(ga[i]!, gb[i]!), `${f}' at ${db[i]}: native ${ga[i]} vs js ${gb[i]}`);
      }
    }
  }
});

test('sigmoid within an ulp of the JS one over [-110, 110] (vectorised exp, denormal and saturated outputs)', { skip }, () => {
  const pre = Float32Array.from({ length: 44001 }, (_, i) => -110 + i * 0.005);
  const a = pre.slice(),
    b = pre.slice();
  N.activate('sigmoid', a);
  J.activate('sigmoid', b);
  let differ = 0;
  for (let i = 0; i < pre.length; i++) {
    if (a[i] !== b[i]) differ++;
    assert.ok(Math.abs(a[i]! - b[i]!) <= Math.max(Math.abs(b[i]!) * 2 ** -23, 2 ** -149), `sigmoid(${pre[i]}): native ${a[i]} vs js ${b[i]}`);
  }
  assert.ok(differ <= 5, `${differ} of ${pre.length} sigmoid values differ from JS in the last bit`);
});

test('native kernels reject arrays too short for the sizes given', { skip }, () => {
  const a = new Float32Array(4);
  assert.throws(() => N.gemm(3, 3, 3, a, a, a, false), /too short/);
  assert.throws(() => N.gemmTN(2, 2, 2, new Float32Array(4), new Float32Array(4), new Float32Array(3), false), /too short/);
  assert.throws(() => N.im2col(a, a, 1, 1, 5, 1, 1, 5, 0, 1, 1, 3, 1, 1), /too short/);
  assert.throws(() => N.maxPoolBackward(a, new Int32Array([0, 1, 2, 9]), a), /out of range/);
  assert.throws(() => N.relu(new Float32Array(2), a), /too short/);
  assert.throws(() => N.addScaled(new Float32Array(6), new Float32Array(6), new Float32Array(4), 4), /multiple of C/);
  assert.throws(() => N.activate('softplus' as 'relu', a), /integer|unknown/);
});

/** A small KWS-shaped network (conv/relu/pool/dropout twice, dense) trained a few Adam steps. */
function trainSteps(backend: 'js' | 'native', steps: number): Float32Array[] {
  useKernels(backend);
  try {
    const rng = new Rng(21);
    const model = new Sequential(
      [20, 13],
      [
        new Conv1D({ name: 'c1', inChannels: 13, filters: 12, kernelSize: 3, padding: 'same', rng }),
        new ReLU('r1'),
        new MaxPool1D({ name: 'p1', poolSize: 2, stride: 2, padding: 'same' }),
        new Dropout({ name: 'd1', rate: 0.25 }),
        new Conv1D({ name: 'c2', inChannels: 12, filters: 20, kernelSize: 3, padding: 'same', rng }),
        new ReLU('r2'),
        new MaxPool1D({ name: 'p2', poolSize: 2, stride: 2, padding: 'same' }),
        new Dropout({ name: 'd2', rate: 0.25 }),
        new Flatten({ name: 'f' }),
        new Dense({ name: 'fc', inFeatures: 5 * 20, units: 7, rng }),
      ],
    );
    const opt = new Adam(model.params(), { lr: 0.005 });
    const ctx = { training: true, rng };
    const x = randomArray(rng, 16 * 260);
    const labels = Array.from({ length: 16 }, () => rng.int(7));
    for (let s = 0; s < steps; s++) {
      opt.zeroGrad();
      const { dlogits } = softmaxCrossEntropy(model.forward({ data: x, shape: [16, 260] }, ctx), labels);
      model.backward(dlogits);
      opt.step();
    }
    return model.snapshot();
  } finally {
    useKernels(process.env.DENDRITIC_KERNELS === 'js' || nativeKernels === null ? 'js' : 'native');
  }
}

test('training steps: native and JS weights agree closely; native is deterministic (same seed, same bits)', { skip }, () => {
  const a = trainSteps('native', 5);
  const b = trainSteps('native', 5);
  const c = trainSteps('js', 5);
  a.forEach((w, i) => sameBits(`native rerun param ${i}`, w, b[i]!));
  a.forEach((w, i) => {
    for (let k = 0; k < w.length; k++) {
      assert.ok(Math.abs(w[k]! - c[i]![k]!) <= 1e-4 * (1 + Math.abs(c[i]![k]!)), `param ${i}[${k}]: native ${w[k]} vs js ${c[i]![k]}`);
    }
  });
});

test('Conv2D/MaxPool2D layers give the same forward and gradients with either backend', { skip }, () => {
  const run = (backend: 'js' | 'native'): Float32Array[] => {
    useKernels(backend);
    try {
      const rng = new Rng(4);
      const conv = new Conv2D({ name: 'c', inChannels: 3, filters: 10, kernelSize: [3, 2], stride: [2, 1], padding: 'same', rng });
      const pool = new MaxPool2D({ name: 'p', poolSize: 2, padding: 'same' });
      const ctx = { training: true, rng };
      const x = { data: randomArray(rng, 2 * 9 * 7 * 3), shape: [2, 9, 7, 3] };
      const y = pool.forward(conv.forward(x, ctx), ctx);
      const dx = conv.backward(pool.backward({ data: randomArray(rng, y.data.length), shape: y.shape }));
      return [y.data.slice(), dx.data.slice(), conv.kernel.grad.slice(), conv.bias.grad.slice()];
    } finally {
      useKernels(process.env.DENDRITIC_KERNELS === 'js' || nativeKernels === null ? 'js' : 'native');
    }
  };
  const a = run('native');
  const b = run('js');
  a.forEach((v, i) => {
    for (let k = 0; k < v.length; k++)
      assert.ok(Math.abs(v[k]! - b[i]![k]!) <= 1e-5 * (1 + Math.abs(b[i]![k]!)), `output ${i}[${k}]: ${v[k]} vs ${b[i]![k]}`);
  });
});

test('kernel selection: DENDRITIC_KERNELS picks the backend', { skip: child }, () => {
  const want = process.env.DENDRITIC_KERNELS === 'js' || nativeKernels === null ? 'js' : 'native';
  assert.equal(kernels.name, want);
  assert.throws(() => spawnCheck({ DENDRITIC_KERNELS: 'bogus' }), /expected 'js' or 'native'/);
});

function spawnCheck(env: Record<string, string>): string {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '-e', "import('./src/engine/kernels.js').then((k) => console.log(k.kernels.name, k.nativeIsa))"],
    {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, ...env },
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

const LOWER_ISAS: Record<string, string[]> = { avx512: ['avx2', 'generic'], avx2: ['generic'], generic: [] };

for (const isa of ['avx2', 'generic']) {
  const runs = !skip && !child && nativeIsa !== undefined && LOWER_ISAS[nativeIsa]!.includes(isa);
  test(
    `the ${isa} native path (DENDRITIC_ISA=${isa}) passes the same agreement tests`,
    { skip: runs ? false : `this CPU's best path is ${nativeIsa ?? 'missing'}` },
    () => {
      assert.equal(spawnCheck({ DENDRITIC_ISA: isa, DENDRITIC_KERNELS: 'native' }), `native ${isa}`);
      const env: Record<string, string | undefined> = {
        ...process.env,
        DENDRITIC_ISA: isa,
        DENDRITIC_KERNELS: 'native',
        DENDRITIC_KERNELS_TEST_CHILD: '1',
      };
      delete env.NODE_TEST_CONTEXT; // a test runner of its own, reporting as text
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', fileURLToPath(import.meta.url)], {
        env,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stdout.slice(-3000) + r.stderr.slice(-2000));
      assert.match(r.stdout, /# fail 0/);
    },
  );
}

test(
  'AVX-512 and AVX2 matrix products are bit-identical (same FMAs in the same order)',
  { skip: skip || child || nativeIsa !== 'avx512' ? 'needs an AVX-512 CPU' : false },
  () => {
    const digest = (env: Record<string, string>): string => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./kernel-digest.ts', import.meta.url))], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const wide = digest({});
    const narrow = digest({ DENDRITIC_ISA: 'avx2' });
    assert.match(wide, /^avx512 /);
    assert.match(narrow, /^avx2 /);
    assert.equal(wide.split(' ')[1], narrow.split(' ')[1]);
  },
);
