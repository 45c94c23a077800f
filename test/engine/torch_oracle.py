#!/usr/bin/python3
"""Independent oracle: reads cases (JSON on stdin), runs them in PyTorch, writes results (JSON).
Layouts: inputs are channels-last as in the engine; TF/Keras 'same' padding is explicit F.pad."""
import json, math, sys
import torch
import torch.nn.functional as F

def same_pad(n, k, s):
    out = math.ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2

def run(c):
    x = torch.tensor(c['x'], dtype=torch.float64).reshape(c['xshape'])
    op = c['op']
    if op in ('conv1d', 'conv2d'):
        x.requires_grad_(True)
        w = torch.tensor(c['w'], dtype=torch.float64).reshape(c['wshape']).requires_grad_(True)
        b = torch.tensor(c['b'], dtype=torch.float64).requires_grad_(True)
        if op == 'conv1d':
            xt = x.permute(0, 2, 1)                      # N,C,L
            wt = w.permute(2, 1, 0)                      # Cout,Cin,K
            if c['padding'] == 'same':
                xt = F.pad(xt, same_pad(xt.shape[2], wt.shape[2], c['stride']))
            y = F.conv1d(xt, wt, b, stride=c['stride']).permute(0, 2, 1)
        else:
            xt = x.permute(0, 3, 1, 2)
            wt = w.permute(3, 2, 0, 1)
            if c['padding'] == 'same':
                ph = same_pad(xt.shape[2], wt.shape[2], c['stride'][0])
                pw = same_pad(xt.shape[3], wt.shape[3], c['stride'][1])
                xt = F.pad(xt, pw + ph)
            y = F.conv2d(xt, wt, b, stride=c['stride']).permute(0, 2, 3, 1)
        r = torch.tensor(c['r'], dtype=torch.float64).reshape(y.shape)
        (y * r).sum().backward()
        return {'y': y.detach().flatten().tolist(), 'dx': x.grad.flatten().tolist(),
                'dw': w.grad.flatten().tolist(), 'db': b.grad.tolist(), 'shape': list(y.shape)}
    if op in ('maxpool1d', 'avgpool1d'):
        xt = x.permute(0, 2, 1)
        k, s = c['pool'], c['stride']
        pad = same_pad(xt.shape[2], k, s) if c['padding'] == 'same' else (0, 0)
        if op == 'maxpool1d':
            y = F.max_pool1d(F.pad(xt, pad, value=-math.inf), k, s)
        else:
            ones = torch.ones_like(xt)
            y = F.avg_pool1d(F.pad(xt, pad), k, s) / F.avg_pool1d(F.pad(ones, pad), k, s)
        y = y.permute(0, 2, 1)
        return {'y': y.flatten().tolist(), 'shape': list(y.shape)}
    if op == 'maxpool2d':
        xt = x.permute(0, 3, 1, 2)
        k, s = c['pool'], c['stride']
        pad = (same_pad(xt.shape[3], k, s) + same_pad(xt.shape[2], k, s)) if c['padding'] == 'same' else (0, 0, 0, 0)
        y = F.max_pool2d(F.pad(xt, pad, value=-math.inf), k, s).permute(0, 2, 3, 1)
        return {'y': y.flatten().tolist(), 'shape': list(y.shape)}
    if op == 'adam':
        p = torch.tensor(c['p'], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.Adam([p], lr=c['lr'], eps=1e-7)
        for g in c['grads']:
            p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
        return {'p': p.detach().tolist()}
    raise ValueError(op)

print(json.dumps([run(c) for c in json.load(sys.stdin)]))
