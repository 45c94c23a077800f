#!/usr/bin/env python3
"""A non-audio Edge Impulse data set for held-out checks: scikit-learn's bundled 8x8 `digits` (1,797
images, 10 classes) as K folds of Edge Impulse data directories.

    /usr/bin/python3 tools/digits/make_folds.py OUT_DIR [K]      # needs python3-sklearn (Debian)

Fold k: OUT_DIR/f<k>/holdout holds fold k (X_split_test/Y_split_test, scored only); OUT_DIR/f<k>/data
holds the rest, a fifth of it as validation (X_split_test) and the remainder as training. X is
(N, 8, 8, 1) float32 in [0, 1] (so `model auto` picks conv2d), Y one-hot float32. Seeded (22), so every
run makes the same folds. Then, per fold:

    node dist/cli.js experiment --data-directory OUT_DIR/f0/data --holdout-directory OUT_DIR/f0/holdout \
      --out-directory /tmp/digits-exp/f0 --widths 0.25 --seeds 2 --modes restarts,shipped --jobs 2
"""
import json
import os
import sys

import numpy as np
from sklearn.datasets import load_digits


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    k_folds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    y = d.target.astype(np.int64)
    perm = np.random.default_rng(22).permutation(len(y))
    folds = np.array_split(perm, k_folds)

    def onehot(v: np.ndarray) -> np.ndarray:
        o = np.zeros((len(v), 10), np.float32)
        o[np.arange(len(v)), v] = 1
        return o

    for k in range(k_folds):
        hold = folds[k]
        rest = np.concatenate([folds[j] for j in range(k_folds) if j != k])
        n_val = len(rest) // 5
        val, train = rest[:n_val], rest[n_val:]
        base = os.path.join(out, f"f{k}")
        for sub, parts in (("data", (("train", train), ("test", val))), ("holdout", (("test", hold),))):
            os.makedirs(os.path.join(base, sub), exist_ok=True)
            for name, idx in parts:
                np.save(os.path.join(base, sub, f"X_split_{name}.npy"), x[idx])
                np.save(os.path.join(base, sub, f"Y_split_{name}.npy"), onehot(y[idx]))
        with open(os.path.join(base, "data", "train_input.json"), "w") as f:
            json.dump({"classes": [str(i) for i in range(10)], "inputShapeString": "(8, 8, 1)"}, f)
        print(f"fold {k}: {len(train)} train, {len(val)} validation, {len(hold)} hold-out")


if __name__ == "__main__":
    main()
