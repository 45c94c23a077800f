import { reuse, type Tensor } from './tensor.js';

export interface LossResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  /** dLoss/dlogits (already divided by the batch size), shape as the logits. */
  dlogits: Tensor;
  /** Samples whose argmax logit is the label. */
  correct: number;
}

/**
 * Softmax cross-entropy on logits [N, K] with integer labels, computed with the max-shift
 * (log-sum-exp) so large logits neither overflow nor lose precision. Pass `out` to reuse a gradient buffer.
 */
export function softmaxCrossEntropy(logits: Tensor, labels: ArrayLike<number>, out?: Float32Array): LossResult {
  const [n, k] = logits.shape as [number, number];
  if (logits.shape.length !== 2 || labels.length !== n) {
    throw new Error(`softmaxCrossEntropy: expected logits [N, K] and N labels, got [${logits.shape.join(', ')}] and ${labels.length}`);
  }
  const z = logits.data;
  const d = reuse(out, n * k);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * k;
    const label = labels[i]!;
    if (!(label >= 0 && label < k && Number.isInteger(label))) {
      throw new Error(`softmaxCrossEntropy: label ${label} of sample ${i} is not in [0, ${k})`);
    }
    let max = -Infinity;
    let arg = 0;
    for (let j = 0; j < k; j++) {
      if (z[row + j] > max) {
        max = z[row + j];
        arg = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(z[row + j] - max);
    const logSum = Math.log(sum);
    loss += logSum - (z[row + label] - max);
    if (arg === label) correct++;
    for (let j = 0; j < k; j++) d[row + j] = Math.exp(z[row + j] - max - logSum) / n;
    d[row + label] -= 1 / n;
  }
  return { loss: loss / n, dlogits: { data: d, shape: [n, k] }, correct };
}

/** Row-wise softmax of [N, K] logits into `out` (or a new buffer). */
export function softmax(logits: Tensor, out?: Float32Array): Float32Array {
  const [n, k] = logits.shape as [number, number];
  const z = logits.data;
  const p = out ?? new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let max = -Infinity;
    for (let j = 0; j < k; j++) if (z[row + j] > max) max = z[row + j];
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(z[row + j] - max);
      p[row + j] = e;
      sum += e;
    }
    for (let j = 0; j < k; j++) p[row + j] /= sum;
  }
  return p;
}

/**
 * Knowledge distillation (Hinton et al. 2015) on logits [N, K]: (1 - alpha) times the cross-entropy with
 * the labels plus alpha times T^2 times KL(softmax(teacher / T) || softmax(logits / T)), the mean over the
 * batch. T^2 keeps the soft term's gradient on the scale of the hard one's as T grows. The gradient with
 * respect to the student's logits is (1 - alpha) (p - onehot) / N + alpha T (softmax(z / T) - softmax(t / T)) / N.
 * `correct` counts the student's argmax against the labels, as softmaxCrossEntropy does.
 */
export function distillationLoss(
  logits: Tensor,
  labels: ArrayLike<number>,
  teacher: Tensor,
  temperature: number,
  alpha: number,
  out?: Float32Array,
): LossResult {
  const [n, k] = logits.shape as [number, number];
  if (teacher.shape.length !== 2 || teacher.shape[0] !== n || teacher.shape[1] !== k) {
    throw new Error(`distillationLoss: expected teacher logits [${n}, ${k}], got [${teacher.shape.join(', ')}]`);
  }
  if (!(temperature > 0) || !(alpha >= 0 && alpha <= 1)) {
    throw new Error(`distillationLoss: expected temperature > 0 and alpha in [0, 1], got ${temperature} and ${alpha}`);
  }
  const hard = softmaxCrossEntropy(logits, labels, out);
  const d = hard.dlogits.data;
  const z = logits.data;
  const t = teacher.data;
  let kl = 0;
  const ps = new Float64Array(k);
  const pt = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const row = i * k;
    let ms = -Infinity;
    let mt = -Infinity;
    for (let j = 0; j < k; j++) {
      ms = Math.max(ms, z[row + j]! / temperature);
      mt = Math.max(mt, t[row + j]! / temperature);
    }
    let ss = 0;
    let st = 0;
    for (let j = 0; j < k; j++) {
      ps[j] = Math.exp(z[row + j]! / temperature - ms);
      pt[j] = Math.exp(t[row + j]! / temperature - mt);
      ss += ps[j]!;
      st += pt[j]!;
    }
    const logSs = Math.log(ss);
    const logSt = Math.log(st);
    for (let j = 0; j < k; j++) {
      const logPt = t[row + j]! / temperature - mt - logSt;
      const logPs = z[row + j]! / temperature - ms - logSs;
      const q = pt[j]! / st;
      if (q > 0) kl += q * (logPt - logPs);
      d[row + j] = (1 - alpha) * d[row + j]! + (alpha * temperature * (ps[j]! / ss - q)) / n;
    }
  }
  const loss = (1 - alpha) * hard.loss + (alpha * temperature * temperature * kl) / n;
  return { loss, dlogits: hard.dlogits, correct: hard.correct };
}
