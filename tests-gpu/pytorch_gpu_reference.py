#!/usr/bin/env python3
"""PyTorch reference for Salvo's GPU goals (issue 7), measured on the same GPU in the same call.

Prints one JSON object on stdout (progress goes to stderr). tests-gpu/compare.sh runs it beside
Salvo's own measurements and prints the ratios. Every timing is the median of --repeat runs,
with min and max, after a warm-up; GPU work is timed with CUDA events (or perf_counter on CPU).

  matmul       C = A B in FP32 (allow_tf32 off) and TF32 at 1024^3 and 4096^3, and the three
               training shapes of the large MLP (X W, dY W^T, X^T dY) at batch 4096, hidden 4096
  adam         one torch.optim.Adam(fused=True) step over the small MLP's parameters
  small_step   784-256-256-10, batch 128, AdamW: eager step and the same step replayed from a
               torch.cuda.CUDAGraph (the "whole-step graph" reference)
  large_step   784-4096-4096-10, batch 4096, FP32, AdamW, eager
  fashion      one Fashion-MNIST epoch (784-512-256-10, batch 128, AdamW lr 1e-3) with the whole
               training set already on the GPU, batches gathered by a shuffled index

  python3 tests-gpu/pytorch_gpu_reference.py [--device cuda] [--quick] [--repeat 5]
      [--fashion-dir /usr/share/datasets/fashion-mnist]

--device cpu runs the same code on the CPU (to check the script where there is no GPU); the
CUDA-graph reference is then skipped.
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import time

import torch


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Timer:
    """Times a callable on the chosen device; returns seconds per call (median, min, max)."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def time(self, fn, calls, repeat, warmup=3):
        for _ in range(warmup):
            fn()
        self.sync()
        samples = []
        for _ in range(repeat):
            if self.cuda:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(calls):
                    fn()
                end.record()
                end.synchronize()
                samples.append(start.elapsed_time(end) / 1000.0 / calls)
            else:
                t0 = time.perf_counter()
                for _ in range(calls):
                    fn()
                samples.append((time.perf_counter() - t0) / calls)
        return {"median_s": statistics.median(samples), "min_s": min(samples), "max_s": max(samples),
                "calls": calls, "repeat": repeat}


def mlp(sizes, device):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers).to(device)


def adamw(model, device, lr=1e-3):
    kw = dict(lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    if device.type == "cuda":
        kw["fused"] = True
    try:
        return torch.optim.AdamW(model.parameters(), **kw)
    except (TypeError, RuntimeError):  # older torch: no fused AdamW
        kw.pop("fused", None)
        return torch.optim.AdamW(model.parameters(), **kw)


def bench_matmul(t, device, quick, repeat):
    out = []
    sizes = [(1024, 1024, 1024)] if quick else [(1024, 1024, 1024), (4096, 4096, 4096)]
    shapes = []
    for n in sizes:
        shapes.append(("NN", n))
    if not quick:  # large-MLP training shapes: batch 4096, hidden 4096
        shapes += [("X*W", (4096, 4096, 4096)), ("dY*W^T", (4096, 4096, 4096)), ("X^T*dY", (4096, 4096, 4096))]
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for name, (m, n, k) in shapes:
            a = torch.randn(m if name != "X^T*dY" else k, k if name != "X^T*dY" else m, device=device)
            b = torch.randn(k if name != "dY*W^T" else n, n if name != "dY*W^T" else k, device=device)
            if name == "dY*W^T":
                f = lambda: torch.matmul(a, b.t())
            elif name == "X^T*dY":
                f = lambda: torch.matmul(a.t(), b)
            else:
                f = lambda: torch.matmul(a, b)
            r = t.time(f, calls=3 if quick else 20, repeat=repeat)
            r.update(shape=name, m=m, n=n, k=k, tf32=tf32, gflops=2.0 * m * n * k / r["median_s"] / 1e9)
            log(f"matmul {name} {m}x{n}x{k} tf32={tf32}: {r['gflops']:.0f} GFLOP/s")
            out.append(r)
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


def step_fn(model, opt, x, y):
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def bench_step(t, device, sizes, batch, repeat, quick, graph):
    torch.manual_seed(1)
    model = mlp(sizes, device)
    opt = adamw(model, device)
    x = torch.randn(batch, sizes[0], device=device)
    y = torch.randint(0, sizes[-1], (batch,), device=device)
    step = step_fn(model, opt, x, y)
    calls = 5 if quick else (50 if batch >= 4096 else 200)
    res = {"layers": sizes, "batch": batch, "eager": t.time(step, calls=calls, repeat=repeat)}
    log(f"step {sizes} batch {batch} eager: {res['eager']['median_s'] * 1e3:.3f} ms")
    if graph and device.type == "cuda":
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for _ in range(3):
                step()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            step()
        res["graph"] = t.time(g.replay, calls=calls, repeat=repeat)
        log(f"step {sizes} batch {batch} cuda graph: {res['graph']['median_s'] * 1e3:.3f} ms")
    return res


def bench_adam(t, device, repeat, quick):
    model = mlp([784, 256, 256, 10], device)
    opt = adamw(model, device)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    r = t.time(opt.step, calls=5 if quick else 200, repeat=repeat)
    r["parameters"] = sum(p.numel() for p in model.parameters())
    r["fused"] = bool(opt.defaults.get("fused", False))
    log(f"adamw step over {r['parameters']} parameters: {r['median_s'] * 1e6:.1f} us")
    return r


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def bench_fashion(t, device, fashion_dir, repeat, quick):
    images = os.path.join(fashion_dir, "train-images-idx3-ubyte.gz")
    labels = os.path.join(fashion_dir, "train-labels-idx1-ubyte.gz")
    if os.path.exists(images) and os.path.exists(labels):
        x_all = read_idx(images).reshape(-1, 784).float().div_(255.0)
        y_all = read_idx(labels).long()
        source = fashion_dir
    else:
        log(f"fashion: no IDX files under {fashion_dir}; using random data of the same shape")
        x_all = torch.rand(60000, 784)
        y_all = torch.randint(0, 10, (60000,))
        source = "synthetic"
    if quick:
        x_all, y_all = x_all[:2048], y_all[:2048]
    x_all, y_all = x_all.to(device), y_all.to(device)
    torch.manual_seed(1)
    model = mlp([784, 512, 256, 10], device)
    opt = adamw(model, device)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = 128
    n = x_all.shape[0]

    def epoch():
        order = torch.randperm(n, device=device)
        for i in range(0, n, batch):
            idx = order[i:i + batch]
            opt.zero_grad(set_to_none=False)
            loss_fn(model(x_all[idx]), y_all[idx]).backward()
            opt.step()
    r = t.time(epoch, calls=1, repeat=repeat, warmup=1)
    r.update(samples=n, batch=batch, source=source, samples_per_s=n / r["median_s"])
    log(f"fashion epoch ({n} samples): {r['median_s']:.3f} s")
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--quick", action="store_true", help="tiny sizes, to check the script")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--fashion-dir", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        sys.exit("pytorch_gpu_reference.py: --device cuda but torch.cuda.is_available() is False")
    device = torch.device(a.device)
    t = Timer(device)
    result = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
        "cuda": torch.version.cuda,
        "matmul": bench_matmul(t, device, a.quick, a.repeat),
        "adam": bench_adam(t, device, a.repeat, a.quick),
        "small_step": bench_step(t, device, [784, 256, 256, 10], 128, a.repeat, a.quick, graph=True),
        "large_step": bench_step(t, device, [784, 1024, 1024, 10] if a.quick else [784, 4096, 4096, 10],
                                 256 if a.quick else 4096, a.repeat, a.quick, graph=False),
        "fashion": bench_fashion(t, device, a.fashion_dir, a.repeat, a.quick),
    }
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
