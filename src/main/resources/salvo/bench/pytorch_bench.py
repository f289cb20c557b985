#!/usr/bin/env python3
"""PyTorch CPU reference for `salvo bench`.

Trains the same multilayer perceptrons as `salvo bench` (ReLU hidden layers, softmax
cross-entropy, AdamW with PyTorch semantics, cosine schedule from the base rate to 0 over the
timed pass, mini-batches gathered from one in-memory tensor) on Fashion-MNIST read from its IDX
files with numpy (pixels / 255; --normalize standardize then standardizes each pixel over the
training rows, as `salvo train --normalize standardize` does), and times a square float32 matmul
sweep with torch.matmul. --net NAME=FILE trains a network written in Salvo's JSON form instead (a
chain of conv2d, batchnorm, activations, maxpool/avgpool, flatten, dropout and dense layers, built
as the same torch.nn modules with Salvo's initialisation), and times each of its conv2d layers
alone at the training batch (forward, and backward as autograd runs it). Warm-up steps are run first and not counted. Prints one JSON object on stdout
(progress goes to stderr); `salvo bench` parses it.

Run by hand (Debian: apt-get install python3-torch python3-numpy libopenblas0-pthread
dataset-fashion-mnist; without an optimized BLAS, Debian's torch runs the netlib reference BLAS):

    python3 pytorch_bench.py --threads 2
    python3 pytorch_bench.py --threads 2 --net fashion-cnn=fashion-cnn.json --normalize standardize \
        --lr 0.002 --weight-decay 0.05 --steps 100 --sizes ""

The reference runs on its BLAS library's own choice of kernel: OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE, which override it, are removed from the environment before torch loads (an
environment that forced Haswell on an AVX-512 machine halved PyTorch's matmul speed). The output
says which BLAS library was loaded and, for OpenBLAS, its build config and the core it chose
("blas_kernel"). OMP_WAIT_POLICY is set to PASSIVE when not set: spinning OpenMP threads starve
OpenBLAS's threads on a small machine. Use --help for the options; their defaults are Salvo's
Fashion-MNIST recipe (784-512-256-10 and 784-2048-2048-10, batch 128, AdamW lr 1e-3, betas
(0.9, 0.999), eps 1e-8, weight decay 0.01).
"""

import argparse
import gzip
import json
import math
import os
import platform
import re
import statistics
import sys
import time

# the reference runs on OpenBLAS's own kernel choice: drop the variables that override it, before
# numpy or torch loads the library (it reads them once, when it is loaded)
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BLAS_ENV_IGNORED = {k: os.environ.pop(k) for k in BLAS_OVERRIDES if k in os.environ}
# torch's OpenMP threads spin after each parallel region and starve OpenBLAS's own threads (and
# everything else) on a small or busy machine: 6x slower steps measured on 2 shared cores
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

MODELS = {
    "fashion-mlp": [784, 512, 256, 10],
    "mlp-2048": [784, 2048, 2048, 10],
}


def log(msg):
    print("pytorch_bench: " + msg, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="PyTorch CPU reference for salvo bench: trains MLPs on Fashion-MNIST for one epoch "
                    "(after a warm-up) and times torch.matmul; prints JSON on stdout.")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist",
                   help="directory of the four Fashion-MNIST IDX files (.gz or plain)")
    p.add_argument("--synthetic", type=int, default=0, metavar="ROWS",
                   help="use ROWS rows of random data of the same shape instead of Fashion-MNIST")
    p.add_argument("--models", default=None,
                   help="comma list of model names: %s (default: both, unless --model or --net is given)"
                        % ", ".join(MODELS))
    p.add_argument("--model", action="append", default=[], metavar="NAME=784,512,256,10",
                   help="a model by its layer sizes, input to output (repeatable)")
    p.add_argument("--net", action="append", default=[], metavar="NAME=FILE",
                   help="a network in Salvo's JSON form (salvo train --net FILE), a chain of layers (repeatable)")
    p.add_argument("--normalize", default="none", choices=("none", "standardize"),
                   help="standardize: each feature minus its mean over the training rows, divided by its population "
                        "standard deviation (1 where that is 0), as salvo train --normalize standardize")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.999)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-steps", type=int, default=200, help="steps run before timing (not counted)")
    p.add_argument("--max-warmup-seconds", type=float, default=30.0)
    p.add_argument("--steps", type=int, default=0,
                   help="timed steps per pass (0: a whole epoch unless it would exceed --max-epoch-seconds)")
    p.add_argument("--max-epoch-seconds", type=float, default=120.0,
                   help="a pass longer than this stops early; the epoch time is then extrapolated")
    p.add_argument("--repeat", type=int, default=3, help="timed passes per model")
    p.add_argument("--sizes", default="128,256,512,1024,2048", help="matmul sizes n (empty: no sweep)")
    p.add_argument("--sweep-seconds", type=float, default=3.0, help="time budget per matmul size")
    p.add_argument("--conv-seconds", type=float, default=3.0,
                   help="time budget per conv2d layer of a --net network, forward and backward each (0: not timed)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    for name in ("batch_size", "repeat"):
        if getattr(a, name) < 1:
            p.error("--%s must be at least 1" % name.replace("_", "-"))
    for name in ("warmup_steps", "steps", "synthetic"):
        if getattr(a, name) < 0:
            p.error("--%s must be 0 or more" % name.replace("_", "-"))
    if a.threads < 1:
        p.error("--threads must be at least 1")
    if a.conv_seconds < 0:
        p.error("--conv-seconds must be 0 or more")
    return a


def parse_models(args):
    """(name, layers, net): layers for an MLP; net (the parsed JSON) for a --net network, layers None."""
    out = []
    for item in args.net:
        name, _, path = item.partition("=")
        if not name.strip() or not path:
            raise SystemExit("pytorch_bench: --net: expected NAME=FILE, got '%s'" % item)
        try:
            with open(path) as f:
                net = json.load(f)
        except (OSError, ValueError) as e:
            raise SystemExit("pytorch_bench: --net %s: cannot read: %s" % (item, e))
        out.append((name.strip(), None, net))
    for item in args.model:
        name, _, layers = item.partition("=")
        try:
            sizes = [int(v) for v in layers.split(",")]
        except ValueError:
            sizes = []
        if not name.strip() or len(sizes) < 2 or min(sizes) < 1:
            raise SystemExit("pytorch_bench: --model: expected NAME=784,512,256,10 (sizes >= 1), got '%s'" % item)
        out.append((name.strip(), sizes, None))
    if args.models is None and out:
        return out
    for item in [s.strip() for s in (args.models or ",".join(MODELS)).split(",") if s.strip()]:
        if item in MODELS:
            out.append((item, MODELS[item], None))
        else:
            raise SystemExit("pytorch_bench: --models: unknown model '%s' (known: %s, or NAME=784,...,10)"
                             % (item, ", ".join(MODELS)))
    return out


def read_idx(path):
    import numpy as np
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SystemExit("pytorch_bench: %s: not an unsigned-byte IDX file" % path)
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def find(d, base):
    for name in (base, base + ".gz"):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            return p
    raise SystemExit("pytorch_bench: %s[.gz] not found in %s (apt-get install dataset-fashion-mnist, "
                     "or --data-dir DIR, or --synthetic ROWS)" % (base, d))


def load_data(args, torch):
    import numpy as np
    if args.synthetic > 0:
        g = np.random.default_rng(args.seed)
        x = g.random((args.synthetic, 784), dtype=np.float32)
        y = g.integers(0, 10, args.synthetic).astype(np.int64)
        origin = "synthetic: %d random rows of 784 features in [0,1), 10 classes" % args.synthetic
    else:
        images = read_idx(find(args.data_dir, "train-images-idx3-ubyte"))
        labels = read_idx(find(args.data_dir, "train-labels-idx1-ubyte"))
        x = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255)
        y = labels.astype(np.int64)
        origin = "IDX files in %s, pixels / 255" % args.data_dir
    if args.normalize == "standardize":
        # per feature over the training rows, in float64, population std; a constant feature is only centred
        mean = x.mean(axis=0, dtype=np.float64)
        std = x.std(axis=0, dtype=np.float64)
        std[std == 0] = 1.0
        x = ((x - mean) / std).astype(np.float32)
        origin += "; standardized per feature (mean and population std of the training rows)"
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y), origin


def build(torch, layers, seed):
    nn = torch.nn
    torch.manual_seed(seed)
    mods = []
    for i in range(len(layers) - 1):
        lin = nn.Linear(layers[i], layers[i + 1])
        last = i == len(layers) - 2
        # Salvo's "auto" init: He (normal) before ReLU, Xavier (uniform) for the logits; biases 0
        if last:
            nn.init.xavier_uniform_(lin.weight)
        else:
            nn.init.kaiming_normal_(lin.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(lin.bias)
        mods.append(lin)
        if not last:
            mods.append(nn.ReLU())
    return nn.Sequential(*mods)


ACTIVATIONS = ("relu", "leaky-relu", "tanh", "sigmoid", "gelu")


def activation_module(nn, name):
    # Salvo's activations (dev.salvo.device.Activation): leaky slope 0.01, GELU's tanh approximation
    return {"relu": nn.ReLU, "leaky-relu": lambda: nn.LeakyReLU(0.01), "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
            "gelu": lambda: nn.GELU(approximate="tanh")}[name]()


def init_weight(torch, w, fan_in, fan_out, activation, rule):
    """Salvo's rule (dev.salvo.nn.Init): He normal N(0, 2/fan_in) for ReLU-like layers (conv2d always
    declares ReLU) under "auto", Xavier uniform U(-a, a), a = sqrt(6/(fan_in+fan_out)), for the others."""
    he = rule == "he" or (rule == "auto" and activation in ("relu", "leaky-relu", "gelu"))
    with torch.no_grad():
        if he:
            w.normal_(0.0, math.sqrt(2.0 / fan_in))
        else:
            a = math.sqrt(6.0 / (fan_in + fan_out))
            w.uniform_(-a, a)


def random_hflip(torch):
    """Salvo's random-hflip layer: in training each sample is mirrored left-right with probability 1/2."""
    class RandomHFlip(torch.nn.Module):
        def forward(self, x):
            if not self.training:
                return x
            flip = torch.rand(x.shape[0], device=x.device) < 0.5
            return torch.where(flip[:, None, None, None], x.flip(3), x)
    return RandomHFlip()


def build_net(torch, name, net, seed):
    """The torch.nn.Sequential of a network in Salvo's JSON form (a chain), its input shape, a
    description, and its conv2d layers (module index, shapes, whether its input needs a gradient)."""
    nn = torch.nn
    torch.manual_seed(seed)

    def bad(msg):
        raise SystemExit("pytorch_bench: --net %s: %s" % (name, msg))

    if not isinstance(net, dict) or not isinstance(net.get("layers"), list) or not net["layers"]:
        bad("expected an object with input and layers")
    shape = net.get("input", [net.get("inputs")])
    if not isinstance(shape, list) or not shape or not all(isinstance(d, int) and d > 0 for d in shape):
        bad("input: expected a shape such as [1, 28, 28], got %r" % (shape,))
    if net.get("loss", "cross-entropy") != "cross-entropy":
        bad("loss: only cross-entropy is benchmarked, got %r" % net.get("loss"))
    rule = net.get("init", "auto")
    if rule not in ("auto", "he", "xavier"):
        bad("init: expected auto, he or xavier, got %r" % rule)
    mods, convs, words = [], [], ["x".join(str(d) for d in shape)]
    cur = list(shape)
    grad_needed = False  # does the current value need a gradient (a parameter before it)?
    layers = net["layers"]
    for i, l in enumerate(layers):
        t = l.get("type")
        where = "layers[%d] (%s)" % (i, t)
        if "inputs" in l:
            bad("%s: the reference builds chains only (no inputs lists)" % where)
        if t == "conv2d":
            if len(cur) != 3:
                bad("%s: needs a (C,H,W) input, got %r" % (where, cur))
            c, h, w = cur
            k, st, pd, oc = l["kernel"], l.get("stride", 1), l.get("padding", 0), l["out"]
            m = nn.Conv2d(c, oc, k, stride=st, padding=pd, bias=l.get("bias", True))
            init_weight(torch, m.weight, c * k * k, oc * k * k, "relu", rule)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
            oh, ow = (h + 2 * pd - k) // st + 1, (w + 2 * pd - k) // st + 1
            convs.append({"layer": l.get("name", "layers.%d" % i), "module": len(mods), "channels": c, "height": h,
                          "width": w, "out_channels": oc, "kernel": k, "stride": st, "pad": pd, "out_height": oh,
                          "out_width": ow, "input_gradient": grad_needed})
            mods.append(m)
            cur = [oc, oh, ow]
            grad_needed = True
            words.append("conv2d(%d,%dx%d%s%s%s)" % (oc, k, k, "" if st == 1 else ",s%d" % st,
                                                   "" if pd == 0 else ",p%d" % pd, "" if m.bias is not None else ",no-bias"))
        elif t == "dense":
            if len(cur) != 1:
                bad("%s: needs a flat input (flatten first), got %r" % (where, cur))
            units, act = l["units"], l.get("activation", "identity")
            if act != "identity" and act not in ACTIVATIONS:
                bad("%s: unknown activation %r" % (where, act))
            m = nn.Linear(cur[0], units, bias=l.get("bias", True))
            init_weight(torch, m.weight, cur[0], units, act, rule)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
            mods.append(m)
            if act != "identity":
                mods.append(activation_module(nn, act))
            cur = [units]
            grad_needed = True
            words.append("dense(%d%s%s)" % (units, "" if act == "identity" else "," + act,
                                            "" if m.bias is not None else ",no-bias"))
        elif t == "batchnorm":
            eps, mom = l.get("eps", 1e-5), l.get("momentum", 0.1)
            if len(cur) == 3:
                mods.append(nn.BatchNorm2d(cur[0], eps=eps, momentum=mom))
            elif len(cur) == 1:
                mods.append(nn.BatchNorm1d(cur[0], eps=eps, momentum=mom))
            else:
                bad("%s: needs (C,H,W) or (F), got %r" % (where, cur))
            grad_needed = True
            words.append("batchnorm")
        elif t in ("maxpool", "avgpool"):
            if len(cur) != 3:
                bad("%s: needs a (C,H,W) input, got %r" % (where, cur))
            k = l["kernel"]
            st, pd = l.get("stride", k), l.get("padding", 0)
            mods.append(nn.MaxPool2d(k, st, pd) if t == "maxpool" else nn.AvgPool2d(k, st, pd, count_include_pad=True))
            cur = [cur[0], (cur[1] + 2 * pd - k) // st + 1, (cur[2] + 2 * pd - k) // st + 1]
            words.append("%s(%d%s%s)" % (t, k, "" if st == k else ",s%d" % st, "" if pd == 0 else ",p%d" % pd))
        elif t == "global-avgpool":
            if len(cur) != 3:
                bad("%s: needs a (C,H,W) input, got %r" % (where, cur))
            mods.extend([nn.AdaptiveAvgPool2d(1), nn.Flatten()])
            cur = [cur[0]]
            words.append(t)
        elif t == "flatten":
            mods.append(nn.Flatten())
            cur = [math.prod(cur)]
            words.append(t)
        elif t == "random-hflip":
            if len(cur) != 3:
                bad("%s: needs a (C,H,W) input, got %r" % (where, cur))
            mods.append(random_hflip(torch))
            words.append(t)
        elif t == "dropout":
            mods.append(nn.Dropout(l.get("p", 0.5)))
            words.append("dropout(%g)" % l.get("p", 0.5))
        elif t in ACTIVATIONS:
            mods.append(activation_module(nn, t))
            words.append(t)
        elif t == "softmax" and i == len(layers) - 1:
            words.append(t)  # a final softmax is fused into the cross-entropy, as in Salvo
        else:
            bad("%s: not a layer type the reference builds" % where)
    if len(cur) != 1:
        bad("the last layer's output must be flat (classes), got %r" % cur)
    words.append("cross-entropy")
    return nn.Sequential(*mods), shape, cur[0], " ".join(words), convs


def run_pass(torch, args, model, x, y, rows):
    """Trains one pass over the first `rows` rows (shuffled); returns (seconds, samples, mean loss)."""
    F = torch.nn.functional
    b = args.batch_size
    steps = (rows + b - 1) // b
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps,
                            weight_decay=args.weight_decay)
    span = max(1, steps - 1)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / span))))
    xs = x[:rows]
    ys = y[:rows]
    start = time.perf_counter()
    perm = torch.randperm(rows)
    loss_sum = 0.0
    for s in range(steps):
        idx = perm[s * b:(s + 1) * b]
        xb = xs.index_select(0, idx)
        yb = ys.index_select(0, idx)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        sched.step()
        loss_sum += loss.item()
    seconds = time.perf_counter() - start
    return seconds, rows, loss_sum / steps


def blas_kernel():
    """The BLAS library this process has loaded (torch's float32 matmul calls its sgemm) and what
    it says of itself: OpenBLAS its build config, the core kernel it chose and its threads; BLIS its
    version; MKL its threads. A library with none of these is reported by path: Debian's libblas3
    (in .../blas/) is the netlib reference, with no optimized kernels."""
    import ctypes
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split()
                p = fields[-1] if len(fields) >= 6 else ""
                base = os.path.basename(p).lower()
                if p.startswith("/") and p not in paths and ("blas" in base or "blis" in base or "mkl" in base):
                    paths.append(p)
    except OSError as e:
        return {"library": "unknown", "optimized": None, "note": "cannot read /proc/self/maps: %s" % e}
    found = []
    for p in paths:
        entry = {"path": p, "file": os.path.realpath(p)}
        try:
            lib = ctypes.CDLL(p)
        except OSError as e:
            entry.update(library="unknown", optimized=None, note=str(e))
            found.append(entry)
            continue

        def text(name):
            f = getattr(lib, name, None)
            if f is None:
                return None
            f.restype = ctypes.c_char_p
            v = f()
            return v.decode("utf-8", "replace").strip() if v else ""

        def number(name):
            f = getattr(lib, name, None)
            if f is None:
                return None
            f.restype = ctypes.c_int
            return int(f())

        config = text("openblas_get_config")
        if config is not None:
            entry.update(library="OpenBLAS", optimized=True, config=config, core=text("openblas_get_corename"),
                         threads=number("openblas_get_num_threads"), parallel=number("openblas_get_parallel"))
        elif getattr(lib, "bli_info_get_version_str", None) is not None:
            entry.update(library="BLIS", optimized=True, version=text("bli_info_get_version_str"))
        elif getattr(lib, "mkl_get_max_threads", None) is not None:
            entry.update(library="MKL", optimized=True, threads=number("mkl_get_max_threads"))
        elif getattr(lib, "sgemm_", None) is not None:
            netlib = "/blas/" in entry["file"] and "openblas" not in entry["file"]
            entry.update(library="reference BLAS (netlib; no optimized kernels)" if netlib else "unknown BLAS",
                         optimized=False if netlib else None)
        else:
            continue
        found.append(entry)
    if not found:
        return {"library": "none found", "optimized": None, "note": "no BLAS library in /proc/self/maps"}
    best = next((e for e in found if e.get("optimized")), found[0])
    out = dict(best)
    if len(found) > 1:
        out["others"] = [e["path"] for e in found if e is not best]
    return out


def blas_summary(k):
    if k.get("library") == "OpenBLAS":
        version = (k.get("config") or "OpenBLAS").split()
        return "%s (core %s)" % (" ".join(version[:2]), k.get("core") or "?")
    return k.get("library", "unknown")


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def train(torch, args, name, layers, net, x, y):
    b = args.batch_size
    epoch_rows = x.shape[0]
    steps_per_epoch = (epoch_rows + b - 1) // b
    convs = []
    if net is None:
        model = build(torch, layers, args.seed)
        network = "-".join(str(v) for v in layers)
    else:
        model, shape, outputs, network, convs = build_net(torch, name, net, args.seed)
        if math.prod(shape) != x.shape[1]:
            raise SystemExit("pytorch_bench: --net %s takes %d values per sample, the data has %d"
                             % (name, math.prod(shape), x.shape[1]))
        layers = [x.shape[1], outputs]
        x = x.reshape(x.shape[0], *shape)
    model.train()
    initial = {k: v.clone() for k, v in model.state_dict().items()}  # every timed pass starts here
    # probe a few steps (first calls are slow), then warm up within the time budget
    probe = min(5, steps_per_epoch)
    t, _, _ = run_pass(torch, args, model, x, y, min(epoch_rows, probe * b))
    per_step = t / probe
    warm = min(args.warmup_steps, steps_per_epoch, max(1, int(args.max_warmup_seconds / per_step)))
    if args.warmup_steps > 0:
        t, _, _ = run_pass(torch, args, model, x, y, min(epoch_rows, warm * b))
        per_step = t / warm
    else:
        warm = 0
    if args.steps > 0:
        steps = min(args.steps, steps_per_epoch)
    elif per_step * steps_per_epoch <= args.max_epoch_seconds:
        steps = steps_per_epoch
    else:
        steps = min(steps_per_epoch, max(10, int(args.max_epoch_seconds / per_step)))
    rows = epoch_rows if steps == steps_per_epoch else steps * b
    secs, sps, losses = [], [], []
    for r in range(args.repeat):
        model.load_state_dict(initial)
        seconds, samples, loss = run_pass(torch, args, model, x, y, rows)
        rate = samples / seconds
        sps.append(rate)
        secs.append(epoch_rows / rate)
        losses.append(loss)
        log("%s: pass %d/%d: %d steps in %.2f s, %.0f samples/s, mean loss %.4f"
            % (name, r + 1, args.repeat, (rows + b - 1) // b, seconds, rate, loss))
    return {
        "model": name, "layers": layers, "network": network,
        "parameters": sum(p.numel() for p in model.parameters()), "batch_size": b, "rows_per_epoch": epoch_rows,
        "steps_per_epoch": steps_per_epoch, "steps_timed": (rows + b - 1) // b, "warmup_steps": warm,
        "extrapolated": rows != epoch_rows, "seconds_per_epoch": stats(secs),
        "samples_per_second": stats(sps), "mean_loss": losses[-1],
    }, model, convs


def time_calls(fn, flops, budget):
    """GFLOP/s samples of fn: two untimed calls, then up to 7 samples of repeated calls (about 0.1 s
    each) within budget seconds, at least one."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-9)
    reps = max(1, math.ceil(0.1 / one))
    samples = max(1, min(7, int(budget / (reps * one))))
    values = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        values.append(flops * reps / (time.perf_counter() - t0) / 1e9)
    return stats(values), reps


def conv_timing(torch, args, name, model, convs):
    """Each conv2d layer of a trained network alone, at the training batch, in training mode: forward
    (autograd recording, as in a step) and backward (y.backward(dy) on a retained graph: the weight
    gradient, and the input gradient where the layer's input needs one in the network). FLOPs:
    forward 2 N OC OH OW C k^2; backward the same per gradient computed."""
    out = []
    b = args.batch_size
    g = torch.Generator().manual_seed(args.seed)
    for cv in convs:
        conv = model[cv["module"]]
        x = torch.randn((b, cv["channels"], cv["height"], cv["width"]), generator=g)
        x.requires_grad_(cv["input_gradient"])
        flops = 2.0 * b * cv["out_channels"] * cv["out_height"] * cv["out_width"] * cv["channels"] * cv["kernel"] ** 2
        bflops = flops * (2 if cv["input_gradient"] else 1)
        fwd, fwd_reps = time_calls(lambda: conv(x), flops, args.conv_seconds)
        y = conv(x)
        dy = torch.randn(y.shape, generator=g)

        def backward():
            conv.weight.grad = None  # fresh gradients, as after zero_grad(set_to_none=True)
            if conv.bias is not None:
                conv.bias.grad = None
            x.grad = None
            y.backward(dy, retain_graph=True)

        bwd, bwd_reps = time_calls(backward, bflops, args.conv_seconds)
        entry = {"model": name, "batch": b}
        entry.update({k: v for k, v in cv.items() if k != "module"})
        entry.update({"forward_flops": flops, "backward_flops": bflops, "forward_gflops": fwd, "backward_gflops": bwd,
                      "forward_calls_per_sample": fwd_reps, "backward_calls_per_sample": bwd_reps})
        log("%s %s conv2d %dx%dx%d -> %d: forward %.1f GFLOP/s, backward %.1f GFLOP/s"
            % (name, cv["layer"], cv["channels"], cv["height"], cv["width"], cv["out_channels"], fwd["median"],
               bwd["median"]))
        out.append(entry)
    return out


def sweep(torch, args, n):
    g = torch.Generator().manual_seed(args.seed + n)
    a = torch.rand((n, n), generator=g)
    bm = torch.rand((n, n), generator=g)
    c = torch.empty((n, n))
    torch.matmul(a, bm, out=c)
    t0 = time.perf_counter()
    torch.matmul(a, bm, out=c)
    t1 = max(time.perf_counter() - t0, 1e-9)
    reps = max(1, math.ceil(0.25 / t1))
    samples = max(1, min(7, int(args.sweep_seconds / (reps * t1))))
    g_list = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.matmul(a, bm, out=c)
        dt = time.perf_counter() - t0
        g_list.append(2.0 * n * n * n * reps / dt / 1e9)
    return {"n": n, "calls_per_sample": reps, "gflops": stats(g_list)}


def main(argv):
    args = parse_args(argv)
    models = parse_models(args)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        raise SystemExit("pytorch_bench: --sizes: expected a comma list of integers, got '%s'" % args.sizes)
    import numpy
    import torch
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    x, y, origin = load_data(args, torch)
    torch.matmul(torch.ones(8, 8), torch.ones(8, 8))  # the BLAS is loaded by now
    kernel = blas_kernel()
    if BLAS_ENV_IGNORED:
        log("ignored %s from the environment: the reference runs on the BLAS's own kernel choice"
            % ", ".join("%s=%s" % kv for kv in BLAS_ENV_IGNORED.items()))
    log("torch %s, %d threads, BLAS %s, OMP_WAIT_POLICY=%s, data: %s"
        % (torch.__version__, torch.get_num_threads(), blas_summary(kernel), os.environ.get("OMP_WAIT_POLICY"), origin))
    if kernel.get("optimized") is False:
        log("warning: %s is not an optimized BLAS: PyTorch's matmul is far below what this machine can do "
            "(Debian: apt-get install libopenblas0-pthread)" % kernel.get("path"))
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    result = {
        "reference": "pytorch",
        "torch_version": torch.__version__,
        "numpy_version": numpy.__version__,
        "python_version": platform.python_version(),
        "threads": torch.get_num_threads(),
        "env": {k: v for k, v in sorted(os.environ.items())
                if k.startswith(("OPENBLAS_", "GOTO_", "OMP_", "MKL_", "BLIS_", "KMP_"))},
        "blas": blas_summary(kernel),
        "blas_kernel": kernel,
        "blas_build": found.group(1) if found else "",
        "blas_env_ignored": BLAS_ENV_IGNORED,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "data": origin,
        "optimizer": {"name": "adamw", "lr": args.lr, "betas": [args.beta1, args.beta2], "eps": args.eps,
                      "weight_decay": args.weight_decay, "schedule": "cosine"},
        "normalize": args.normalize,
        "parameters": {},
        "training": [],
        "matmul": [],
        "conv2d": [],
    }
    for name, layers, net in models:
        if net is None and layers[0] != x.shape[1]:
            raise SystemExit("pytorch_bench: model %s expects %d inputs, the data has %d" % (name, layers[0], x.shape[1]))
        row, model, convs = train(torch, args, name, layers, net, x, y)
        result["training"].append(row)
        result["parameters"][name] = row["parameters"]  # trainable values per model (Salvo's ParamLayout.count)
        if convs and args.conv_seconds > 0:
            result["conv2d"].extend(conv_timing(torch, args, name, model, convs))
    for n in sizes:
        r = sweep(torch, args, n)
        log("matmul n=%d: %.1f GFLOP/s" % (n, r["gflops"]["median"]))
        result["matmul"].append(r)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
