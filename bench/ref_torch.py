#!/usr/bin/python3
"""PyTorch-on-CPU reference for `make bench`: the same networks ganctl trains.

  /usr/bin/python3 bench/ref_torch.py --model dcgan --threads 2 --blas-threads 1
  /usr/bin/python3 bench/ref_torch.py --model ring8 --threads 1 --hidden 128 --layers 2
  /usr/bin/python3 bench/ref_torch.py --model dcgan --critic wgan-gp --threads 2

dcgan: the engine's reference DCGAN on Fashion-MNIST 28x28 (design: issue 4),
    G: linear z->128*7*7 (no bias), BN1d, ReLU, convT 128->64 (4,2,1, no bias), BN2d,
       ReLU, convT 64->1 (4,2,1), tanh
    D: conv 1->64 (4,2,1), leaky 0.2, conv 64->128 (4,2,1, no bias), BN2d, leaky 0.2,
       linear 6272->1
ring8: the MLP GAN on 8 Gaussians on a ring (radius 1, sigma 0.01):
    G: z -> layers x (linear hidden, [BN], ReLU) -> linear 2
    D: 2 -> layers x (linear hidden, leaky 0.2) -> linear 1
Both: BCE on logits, non-saturating G loss, Adam(2e-4, 0.5, 0.999). One step is one D
update on a real and a fake batch, then one G update on a fresh noise batch, the
pattern the engine runs with d_steps = 1.

--critic wgan|wgan-gp: the same networks as a Wasserstein critic and its generator, as
the engine's wasserstein loss trains them: RMSprop 5e-5, five critic updates a step,
each on a fresh real and fake batch, then G on -mean D(G(z)). wgan clips D's
parameters to [-0.01, 0.01] after each update; wgan-gp adds 10 x mean (|grad| - 1)^2
at random interpolates of the real and fake batch (autograd.grad with
create_graph=True, the usual PyTorch WGAN-GP) and does not clip.

Prints one JSON line: images_per_s (median of per-step rates x batch), steps_per_s,
cpu_s_per_step (median CPU seconds of the process per step, all threads), rss_mb (peak resident set of the process), threads. Thread settings are applied
before torch is imported, so both OpenMP and OpenBLAS see them.
"""
import argparse
import gzip
import json
import os
import resource
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--model", choices=["dcgan", "ring8"], default="dcgan")
p.add_argument("--threads", type=int, default=1)
p.add_argument("--blas-threads", type=int, default=None)
p.add_argument("--steps", type=int, default=100)
p.add_argument("--warmup", type=int, default=10)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--z-dim", type=int, default=100)
p.add_argument("--hidden", type=int, default=128)
p.add_argument("--layers", type=int, default=2)
p.add_argument("--batch-norm", type=int, default=1)
p.add_argument("--data", default="/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
p.add_argument("--critic", choices=["wgan", "wgan-gp"], default=None)
args = p.parse_args()

os.environ["OMP_NUM_THREADS"] = str(args.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(args.blas_threads or args.threads)

try:
    import torch
    import torch.nn as nn
except ImportError:
    print(json.dumps({"skipped": "python3-torch is not installed"}))
    sys.exit(0)

torch.set_num_threads(args.threads)
torch.manual_seed(1)
B = args.batch


def dcgan():
    g = nn.Sequential(
        nn.Linear(args.z_dim, 128 * 7 * 7, bias=False), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(),
        nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    with gzip.open(args.data, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    imgs = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).view(n, 1, 28, 28)
    state = {"perm": torch.randperm(n), "pos": 0}

    def real_batch():
        if state["pos"] + B > n:
            state["perm"], state["pos"] = torch.randperm(n), 0
        idx = state["perm"][state["pos"]:state["pos"] + B]
        state["pos"] += B
        return imgs[idx].float().div_(127.5).sub_(1.0)
    return g, d, real_batch


def ring8():
    def mlp(i, o, act, bn):
        layers, w = [], i
        for _ in range(args.layers):
            layers.append(nn.Linear(w, args.hidden))
            if bn:
                layers.append(nn.BatchNorm1d(args.hidden))
            layers.append(act())
            w = args.hidden
        layers.append(nn.Linear(w, o))
        return nn.Sequential(*layers)
    g = mlp(args.z_dim, 2, nn.ReLU, args.batch_norm)
    d = mlp(2, 1, lambda: nn.LeakyReLU(0.2), False)
    angles = torch.arange(8) * (2 * 3.141592653589793 / 8)
    centers = torch.stack([angles.cos(), angles.sin()], 1)

    def real_batch():
        k = torch.randint(0, 8, (B,))
        return centers[k] + 0.01 * torch.randn(B, 2)
    return g, d, real_batch


g, d, real_batch = dcgan() if args.model == "dcgan" else ring8()
if args.critic:
    opt_g = torch.optim.RMSprop(g.parameters(), lr=5e-5, alpha=0.99, eps=1e-8)
    opt_d = torch.optim.RMSprop(d.parameters(), lr=5e-5, alpha=0.99, eps=1e-8)
else:
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)


def critic_step():
    for _ in range(5):
        real = real_batch()
        fake = g(torch.randn(B, args.z_dim)).detach()
        opt_d.zero_grad(set_to_none=True)
        loss_d = d(fake).mean() - d(real).mean()
        if args.critic == "wgan-gp":
            eps = torch.rand([B] + [1] * (real.dim() - 1))
            x = (eps * real + (1 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(d(x).sum(), x, create_graph=True)
            loss_d = loss_d + 10.0 * (grad.flatten(1).norm(2, dim=1) - 1).pow(2).mean()
        loss_d.backward()
        opt_d.step()
        if args.critic == "wgan":
            with torch.no_grad():
                for p in d.parameters():
                    p.clamp_(-0.01, 0.01)
    opt_g.zero_grad(set_to_none=True)
    loss_g = -d(g(torch.randn(B, args.z_dim))).mean()
    loss_g.backward()
    opt_g.step()


def step():
    if args.critic:
        critic_step()
        return
    real = real_batch()
    fake = g(torch.randn(B, args.z_dim))
    opt_d.zero_grad(set_to_none=True)
    loss_d = bce(d(real), ones) + bce(d(fake.detach()), zeros)
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    loss_g = bce(d(g(torch.randn(B, args.z_dim))), ones)
    loss_g.backward()
    opt_g.step()


for _ in range(args.warmup):
    step()
times, cpu = [], []
for _ in range(args.steps):
    t0, c0 = time.perf_counter(), time.process_time()
    step()
    times.append(time.perf_counter() - t0)
    cpu.append(time.process_time() - c0)
times.sort()
cpu.sort()
med = times[len(times) // 2]
print(json.dumps({
    "impl": "pytorch", "torch": torch.__version__, "model": args.model,
    "critic": args.critic or "-",
    "threads": args.threads, "blas_threads": args.blas_threads or args.threads,
    "images_per_s": B / med, "steps_per_s": 1.0 / med,
    "cpu_s_per_step": cpu[len(cpu) // 2],
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    "coretype": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
}))
