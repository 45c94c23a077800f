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
