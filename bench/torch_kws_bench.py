#!/usr/bin/python3
"""Times PyTorch CPU training of Edge Impulse's default KWS network on synthetic data, the same network
and loop as /work/shared/bench/torch_kws_ref.py (Adam lr 0.005 eps 1e-7, batch 32, cross-entropy on logits).
Usage: torch_kws_bench.py WIDTH SECONDS [FEATURES CLASSES]  -> one JSON line {"samples_per_s": ...}.
THREADS from the environment (default 2)."""
import json, os, sys, time
import torch
import torch.nn as nn

torch.manual_seed(0)
torch.set_num_threads(int(os.environ.get('THREADS', '2')))
w = float(sys.argv[1])
seconds = float(sys.argv[2])
feat = int(sys.argv[3]) if len(sys.argv) > 3 else 650
k = int(sys.argv[4]) if len(sys.argv) > 4 else 12
cols, frames = 13, feat // 13
c1, c2 = max(1, round(8 * w)), max(1, round(16 * w))
n = 2048
X = torch.randn(n, feat)
Y = torch.randint(0, k, (n,))


class KWS(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv1d(cols, c1, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2, 2, ceil_mode=True), nn.Dropout(0.25),
            nn.Conv1d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2, 2, ceil_mode=True), nn.Dropout(0.25),
            nn.Flatten())
        with torch.no_grad():
            m = self.net(torch.zeros(1, cols, frames)).shape[1]
        self.fc = nn.Linear(m, k)

    def forward(self, x):
        return self.fc(self.net(x.view(-1, frames, cols).transpose(1, 2)))


m = KWS()
opt = torch.optim.Adam(m.parameters(), lr=0.005, eps=1e-7)
lossf = nn.CrossEntropyLoss()
m.train()


def run(limit):
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < limit:
        perm = torch.randperm(n)
        for i in range(0, n, 32):
            idx = perm[i:i + 32]
            opt.zero_grad()
            lossf(m(X[idx]), Y[idx]).backward()
            opt.step()
            done += len(idx)
    return done / (time.perf_counter() - t0)


run(min(1.0, seconds / 3))  # warm-up
print(json.dumps({'samples_per_s': run(seconds)}))
