#!/usr/bin/python3
"""PyTorch-on-CPU reference for `make bench`: the same networks ganctl trains.

  /usr/bin/python3 bench/ref_torch.py --model dcgan --threads 2 --blas-threads 1
  /usr/bin/python3 bench/ref_torch.py --model ring8 --threads 1 --hidden 128 --layers 2

dcgan: the engine's DCGAN (core/gan_arch.c) for a square side of 28, 32, 64 or 128;
    --size 28 is the reference DCGAN on Fashion-MNIST 28x28,
    G: linear z->128*7*7 (no bias), BN1d, ReLU, convT 128->64 (4,2,1, no bias), BN2d,
       ReLU, convT 64->1 (4,2,1), tanh
    D: conv 1->64 (4,2,1), leaky 0.2, conv 64->128 (4,2,1, no bias), BN2d, leaky 0.2,
       linear 6272->1
    and the other sides start from 4x4 with one more up/down block per doubling: at 64
    the DCGAN paper's net, G z 100 -> 4x4x512 -> 8x8x256 -> 16x16x128 -> 32x32x64 ->
    64x64x3, D mirrored. Above 28 the images are RGB: the first --images Fashion-MNIST
    images tinted and scaled up bilinearly, as bench_train makes its PNG folder.
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

--precision bf16 runs the step under torch.autocast("cpu", dtype=torch.bfloat16), PyTorch's
CPU mixed precision (float32 master weights and optimizer state).

The DCGAN starts from the DCGAN paper's initialization, as ganctl's does (conv and linear
weights N(0, 0.02), biases 0, batch-norm scales N(1, 0.02)), from --seed. --dump FILE
writes 5,000 samples of the trained G (eval mode: BN's running statistics) as an IDX
file of bytes, round((x + 1) * 127.5), for bench/precision.c --fid-of: the FID of
PyTorch's runs on ganctl's yardstick (bench/quality_bf16.sh runs both).

Prints one JSON line: images_per_s (median of per-step rates x batch), steps_per_s,
cpu_s_per_step (median CPU seconds of the process per step, all threads), rss_mb (peak resident set of the process), threads. Thread settings are applied
before torch is imported, so both OpenMP and OpenBLAS see them.
"""
import argparse
import contextlib
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
p.add_argument("--size", type=int, choices=[28, 32, 64, 128], default=28)
p.add_argument("--images", type=int, default=1024)
p.add_argument("--precision", choices=["float32", "bf16"], default="float32")
p.add_argument("--seed", type=int, default=1)
p.add_argument("--critic", choices=["wgan", "wgan-gp"], default=None)
p.add_argument("--dump", default=None)
p.add_argument("--data", default="/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
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
torch.manual_seed(args.seed)
B = args.batch


def dcgan():
    side = args.size
    blocks, s0 = {28: (2, 7), 32: (3, 4), 64: (4, 4), 128: (5, 4)}[side]
    chans = 1 if side == 28 else 3
    ch = 64 << (blocks - 1)
    g = [nn.Linear(args.z_dim, ch * s0 * s0, bias=False), nn.BatchNorm1d(ch * s0 * s0),
         nn.ReLU(), nn.Unflatten(1, (ch, s0, s0))]
    for _ in range(blocks - 1):
        g += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch // 2),
              nn.ReLU()]
        ch //= 2
    g += [nn.ConvTranspose2d(ch, chans, 4, 2, 1), nn.Tanh()]
    ch = 64
    d = [nn.Conv2d(chans, ch, 4, 2, 1), nn.LeakyReLU(0.2)]
    for _ in range(blocks - 1):
        d += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ch * 2),
              nn.LeakyReLU(0.2)]
        ch *= 2
    d += [nn.Flatten(), nn.Linear(ch * s0 * s0, 1)]
    with gzip.open(args.data, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    imgs = torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).view(n, 1, 28, 28)
    if side != 28:
        # kept as uint8 like the engine's dataset: tinted RGB, scaled up in slices
        n = min(n, args.images)
        tint = torch.tensor([1.0, 0.8, 0.6]).view(1, 3, 1, 1)
        parts = []
        for i in range(0, n, 256):
            x = imgs[i:min(n, i + 256)].float() * tint
            x = nn.functional.interpolate(x, size=(side, side), mode="bilinear",
                                          align_corners=False)
            parts.append(x.round().clamp(0, 255).to(torch.uint8))
        imgs = torch.cat(parts)
    state = {"perm": torch.randperm(n), "pos": 0}

    def real_batch():
        if state["pos"] + B > n:
            state["perm"], state["pos"] = torch.randperm(n), 0
        idx = state["perm"][state["pos"]:state["pos"] + B]
        state["pos"] += B
        return imgs[idx].float().div_(127.5).sub_(1.0)
    return nn.Sequential(*g), nn.Sequential(*d), real_batch


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
if args.model == "dcgan":
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
if args.critic:
    opt_g = torch.optim.RMSprop(g.parameters(), lr=5e-5, alpha=0.99, eps=1e-8)
    opt_d = torch.optim.RMSprop(d.parameters(), lr=5e-5, alpha=0.99, eps=1e-8)
else:
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
bce = nn.BCEWithLogitsLoss()
ones, zeros = torch.ones(B, 1), torch.zeros(B, 1)


def autocast():
    if args.precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


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
    opt_d.zero_grad(set_to_none=True)
    with autocast():
        fake = g(torch.randn(B, args.z_dim))
        loss_d = bce(d(real).float(), ones) + bce(d(fake.detach()).float(), zeros)
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad(set_to_none=True)
    with autocast():
        loss_g = bce(d(g(torch.randn(B, args.z_dim))).float(), ones)
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
if args.dump:
    g.eval()
    torch.manual_seed(args.seed + 1000)
    with torch.no_grad():
        x = torch.cat([g(torch.randn(500, args.z_dim)) for _ in range(10)])
    x = ((x.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    n, c, h, w = x.shape
    with open(args.dump, "wb") as f:
        f.write((0x0803).to_bytes(4, "big") + n.to_bytes(4, "big") + h.to_bytes(4, "big") +
                w.to_bytes(4, "big"))
        f.write(x.reshape(n, h * w).numpy().tobytes())
times.sort()
cpu.sort()
med = times[len(times) // 2]
print(json.dumps({
    "impl": "pytorch", "torch": torch.__version__, "model": args.model,
    "size": args.size if args.model == "dcgan" else None, "batch": B,
    "precision": args.precision,
    "critic": args.critic or "-",
    "threads": args.threads, "blas_threads": args.blas_threads or args.threads,
    "images_per_s": B / med, "steps_per_s": 1.0 / med,
    "cpu_s_per_step": cpu[len(cpu) // 2],
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    "coretype": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
}))
