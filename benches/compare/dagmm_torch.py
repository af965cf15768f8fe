"""Seconds per epoch of DAGMM in PyTorch (CPU) on KDDCUP99's training half, the
same network, loss and batch size as mixtures-deep's default configuration, for
the speed comparison of docs/benchmarks.md.

usage: python dagmm_torch.py DATA.csv.gz [EPOCHS] [THREADS]
Prints one line per epoch and `torch s/epoch=<mean over epochs after the first>`.
Needs torch and numpy (pip install torch numpy)."""
import gzip, math, sys, time
import numpy as np
import torch
from torch import nn

path = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
if len(sys.argv) > 3:
    torch.set_num_threads(int(sys.argv[3]))
A = np.loadtxt(gzip.open(path, "rt"), delimiter=",", skiprows=1, dtype=np.float32)
X, y = A[:, :-1], A[:, -1].astype(int)
rng = np.random.RandomState(0)
ia = np.where(y == 0)[0]; rng.shuffle(ia)
tr = X[ia[: len(ia) // 2]]
lo, hi = tr.min(0), tr.max(0)
rngs = np.where(hi > lo, hi - lo, 1.0)
tr = torch.from_numpy(((tr - lo) / rngs).astype(np.float32))
d, latent, K = tr.shape[1], 1, 4
torch.manual_seed(0)


def mlp(widths, last_act):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i + 2 < len(widths) or last_act:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


enc = mlp([d, 60, 30, 10, latent], False)
dec = mlp([latent, 10, 30, 60, d], False)
est = nn.Sequential(nn.Linear(latent + 2, 10), nn.Tanh(), nn.Dropout(0.5), nn.Linear(10, K), nn.Softmax(dim=1))
params = list(enc.parameters()) + list(dec.parameters()) + list(est.parameters())
opt = torch.optim.Adam(params, lr=1e-4)
jitter = 1e-6


def step(x):
    zc = enc(x)
    xr = dec(zc)
    diff2 = ((x - xr) ** 2).sum(1)
    nx = torch.sqrt((x ** 2).sum(1) + 1e-16)
    nr = torch.sqrt((xr ** 2).sum(1) + 1e-16)
    rel = torch.sqrt(diff2 + 1e-16) / nx
    cos = (x * xr).sum(1) / (nx * nr)
    z = torch.cat([zc, rel[:, None], cos[:, None]], 1)
    g = est(z)
    mass = g.sum(0)
    phi = mass / x.shape[0]
    mu = g.t() @ z / mass.clamp_min(1e-12)[:, None]
    c = z[:, None, :] - mu[None]
    cov = torch.einsum("nk,nki,nkj->kij", g, c, c) / mass.clamp_min(1e-12)[:, None, None]
    cov = cov + jitter * torch.eye(z.shape[1])
    L = torch.linalg.cholesky(cov)
    y = torch.linalg.solve_triangular(L[None].expand(x.shape[0], -1, -1, -1), c[..., None], upper=False)[..., 0]
    maha = (y ** 2).sum(-1)
    logdet = torch.log(torch.diagonal(L, dim1=-2, dim2=-1)).sum(-1)
    lj = torch.log(phi.clamp_min(1e-12)) - logdet - 0.5 * z.shape[1] * math.log(2 * math.pi) - 0.5 * maha
    energy = -torch.logsumexp(lj, 1)
    pen = (1.0 / torch.diagonal(cov, dim1=-2, dim2=-1)).sum()
    loss = diff2.mean() + 0.1 * energy.mean() + 0.005 * pen
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


times = []
for e in range(epochs):
    t = time.time()
    perm = torch.randperm(tr.shape[0])
    total = 0.0
    for i in range(0, tr.shape[0], 1024):
        total += step(tr[perm[i:i + 1024]])
    times.append(time.time() - t)
    print(f"epoch {e + 1}: {times[-1]:.2f} s, last loss {total:.1f}", flush=True)
rest = times[1:] or times
print(f"torch threads={torch.get_num_threads()} s/epoch={sum(rest) / len(rest):.3f}")
