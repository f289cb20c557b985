#!/usr/bin/env python3
"""PyTorch CPU reference for `salvo bench --gpt`: nanoGPT's "baby GPT" on a character text.

The model is nanoGPT's (model.py, bias=True, dropout 0): token and learned position embeddings,
pre-norm blocks of LayerNorm -> causal self-attention (c_attn, heads, c_proj) -> residual,
LayerNorm -> MLP (c_fc, tanh GELU, c_proj) -> residual, a final LayerNorm and lm_head tied to the
token embedding. Attention is F.scaled_dot_product_attention(is_causal=True) where torch has it
(2.0 and later), else the fastest correct eager form measured on torch 1.13's CPU: one batched
product per head group with the scale and an additive causal mask folded into torch.baddbmm,
softmax over the last axis, then a batched product with v. Init as nanoGPT: normal(0, 0.02) for
linear and embedding weights, c_proj.weight normal(0, 0.02/sqrt(2 layers)), biases 0, layer norm
weight 1 bias 0.

Training as nanoGPT and Salvo's recipe: AdamW (lr 1e-3, betas (0.9, 0.99), eps 1e-8, weight decay
0.1 on the 2-D+ tensors only: matrices and embeddings, none on biases and layer-norm
parameters), gradient clipping at global norm 1.0, a linear warm-up over 100 steps (step s < 100
runs at lr (s+1)/100, as Salvo's Schedule) then cosine decay to 1e-4 (--min-lr) at the last step,
batch 12 random windows of context+1 tokens drawn from the first 90% of the text with a seeded
torch.Generator (nanoGPT's get_batch), 2000 steps.

The vocabulary is the text's distinct characters sorted by code point; the validation split is the
last round(n * 0.1) characters (Salvo's TextCorpus), training random windows start in
[0, train - T - 1]. Validation is the same
fixed set of windows as Salvo's: consecutive non-overlapping windows of context+1 tokens starting
at 0, T, 2T, ... of the last 10% of the text (inputs the first T tokens, labels the last T), at
most --eval-windows of them, evenly spaced (window floor(i * count / max) for i < max) when more.
The validation loss is the mean cross-entropy over every position of those windows.

Timing: every training step is timed alone (the step is synchronous on the CPU: loss.item() is
read every step); the first --skip-steps steps (default 10: allocator and thread-pool warm-up)
are left out of the timed figures; evaluation is never inside a timed step. tokens/s =
batch * context / seconds per step. Prints one JSON object on stdout (progress on stderr);
`salvo bench --gpt` parses it.

Run by hand (Debian: apt-get install python3-torch libopenblas0-pthread bible-kjv):

    bible -l79 "Gen1:1-Rev22:21" </dev/null > kjv.txt
    python3 pytorch_gpt_bench.py --text kjv.txt --threads 2

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the environment before torch loads (the
reference runs on its BLAS's own kernel choice) and OMP_WAIT_POLICY defaults to PASSIVE, as in
pytorch_bench.py, whose BLAS detection this script uses when it lies beside it.
"""

import argparse
import json
import math
import os
import platform
import re
import statistics
import sys
import time

BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BLAS_ENV_IGNORED = {k: os.environ.pop(k) for k in BLAS_OVERRIDES if k in os.environ}
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def log(msg):
    print("pytorch_gpt_bench: " + msg, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="PyTorch CPU reference for salvo bench --gpt: trains nanoGPT's baby GPT on a character text "
                    "and prints JSON (tokens/s, per-step times, validation loss) on stdout.")
    p.add_argument("--text", required=True, help="UTF-8 text file (e.g. the KJV: bible -l79 \"Gen1:1-Rev22:21\" </dev/null > kjv.txt)")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--embd", type=int, default=128)
    p.add_argument("--context", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4, help="learning rate at the last step (cosine)")
    p.add_argument("--warmup", type=int, default=100, help="linear warm-up steps")
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--beta2", type=float, default=0.99)
    p.add_argument("--eps", type=float, default=1e-8)
    p.add_argument("--weight-decay", type=float, default=0.1, help="on 2-D+ tensors only")
    p.add_argument("--clip-norm", type=float, default=1.0, help="global gradient norm bound (0: none)")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="the last round(n * fraction) characters of the text are validation")
    p.add_argument("--eval-windows", type=int, default=1000, help="at most this many validation windows")
    p.add_argument("--eval-batch", type=int, default=64, help="validation windows per forward pass")
    p.add_argument("--skip-steps", type=int, default=10, help="first steps left out of the timed figures")
    p.add_argument("--attention", default="auto", choices=("auto", "sdpa", "baddbmm", "masked_fill"),
                   help="auto: sdpa where torch has it, else baddbmm (the fastest eager form on torch 1.13's CPU)")
    p.add_argument("--foreach", default="auto", choices=("auto", "on", "off"),
                   help="AdamW's multi-tensor (foreach) implementation; auto: on")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    for name in ("layers", "heads", "embd", "context", "batch_size", "steps", "eval_windows", "eval_batch", "threads"):
        if getattr(a, name) < 1:
            p.error("--%s must be at least 1" % name.replace("_", "-"))
    for name in ("warmup", "skip_steps"):
        if getattr(a, name) < 0:
            p.error("--%s must be 0 or more" % name.replace("_", "-"))
    if a.embd % a.heads != 0:
        p.error("--embd (%d) must be a multiple of --heads (%d)" % (a.embd, a.heads))
    if not (0 < a.val_fraction < 1):
        p.error("--val-fraction must be in (0, 1)")
    if a.clip_norm < 0 or a.weight_decay < 0:
        p.error("--clip-norm and --weight-decay must be 0 or more")
    return a


# ---- data ---------------------------------------------------------------------------------------

def load_text(path, val_fraction, context):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SystemExit("pytorch_gpt_bench: %s: not UTF-8 at byte offset %d" % (path, e.start))
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = [index[c] for c in text]
    n = len(ids)
    val = int(math.floor(n * val_fraction + 0.5))  # Salvo's TextCorpus: Math.round(n * fraction)
    split = n - val
    if split < context + 1 or val < context + 1:
        raise SystemExit("pytorch_gpt_bench: %s: %d characters: too short for a %d-token window in both parts"
                         % (path, n, context + 1))
    return ids, chars, split, len(raw)


def val_window_starts(val_tokens, context, max_windows):
    """Starts (in the validation part) of the fixed validation windows: 0, T, 2T, ... while a whole
    window of T+1 tokens fits; when there are more than max_windows, window floor(i * count / max)
    for i < max (evenly spaced)."""
    count = (val_tokens - 1) // context
    if count <= max_windows:
        chosen = range(count)
    else:
        chosen = [i * count // max_windows for i in range(max_windows)]
    return [j * context for j in chosen]


# ---- model (nanoGPT's model.py, dropout 0, bias=True) ---------------------------------------------

def build(torch, a, vocab):
    nn = torch.nn
    F = torch.nn.functional
    sdpa = getattr(F, "scaled_dot_product_attention", None)
    mode = a.attention
    if mode == "auto":
        mode = "sdpa" if sdpa is not None else "baddbmm"
    if mode == "sdpa" and sdpa is None:
        raise SystemExit("pytorch_gpt_bench: --attention sdpa: torch %s has no F.scaled_dot_product_attention"
                         % torch.__version__)
    T = a.context

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(a.embd, 3 * a.embd)
            self.c_proj = nn.Linear(a.embd, a.embd)
            self.n_head = a.heads
            self.scale = 1.0 / math.sqrt(a.embd // a.heads)
            # additive mask: 0 on and below the diagonal, -inf above (softmax gives exactly 0 there)
            self.register_buffer("mask_add", torch.full((T, T), float("-inf")).triu(1), persistent=False)
            self.register_buffer("mask_bool", torch.ones(T, T, dtype=torch.bool).tril(), persistent=False)

        def forward(self, x):
            B, t, C = x.size()
            H = self.n_head
            D = C // H
            q, k, v = self.c_attn(x).split(C, dim=2)
            q = q.view(B, t, H, D).transpose(1, 2)  # (B, H, t, D)
            k = k.view(B, t, H, D).transpose(1, 2)
            v = v.view(B, t, H, D).transpose(1, 2)
            if mode == "sdpa":
                y = sdpa(q, k, v, is_causal=True)
            elif mode == "baddbmm":
                qf = q.reshape(B * H, t, D)
                kf = k.reshape(B * H, t, D)
                att = torch.baddbmm(self.mask_add[:t, :t], qf, kf.transpose(1, 2), beta=1.0, alpha=self.scale)
                att = torch.softmax(att, dim=-1)
                y = torch.bmm(att, v.reshape(B * H, t, D)).view(B, H, t, D)
            else:  # nanoGPT's explicit form
                att = (q @ k.transpose(-2, -1)) * self.scale
                att = att.masked_fill(~self.mask_bool[:t, :t], float("-inf"))
                att = F.softmax(att, dim=-1)
                y = att @ v
            y = y.transpose(1, 2).contiguous().view(B, t, C)
            return self.c_proj(y)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(a.embd, 4 * a.embd)
            self.gelu = nn.GELU(approximate="tanh")
            self.c_proj = nn.Linear(4 * a.embd, a.embd)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(a.embd)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(a.embd)
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab, a.embd),
                wpe=nn.Embedding(a.context, a.embd),
                h=nn.ModuleList([Block() for _ in range(a.layers)]),
                ln_f=nn.LayerNorm(a.embd)))
            self.lm_head = nn.Linear(a.embd, vocab, bias=False)
            self.transformer.wte.weight = self.lm_head.weight  # weight tying
            self.apply(self._init_weights)
            for pn, p in self.named_parameters():
                if pn.endswith("c_proj.weight"):
                    nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * a.layers))
            self.register_buffer("pos", torch.arange(a.context, dtype=torch.long), persistent=False)

        @staticmethod
        def _init_weights(m):
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)

        def forward(self, idx, targets):
            t = idx.size(1)
            tr = self.transformer
            x = tr.wte(idx) + tr.wpe(self.pos[:t])
            for block in tr.h:
                x = block(x)
            logits = self.lm_head(tr.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))

    return GPT(), mode


def lr_at(a, step):
    """Salvo's Schedule: warm-up lr*(s+1)/warmup for s < warmup, then cosine from lr to min-lr at the last step."""
    if step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    span = max(1, a.steps - a.warmup - 1)
    t = min(1.0, (step - a.warmup) / span)
    return a.min_lr + 0.5 * (a.lr - a.min_lr) * (1 + math.cos(math.pi * t))


def quantile(sorted_values, q):
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = q * (len(sorted_values) - 1)
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summary(values):
    s = sorted(values)
    return {"median": statistics.median(s), "min": s[0], "max": s[-1], "p10": quantile(s, 0.1),
            "p90": quantile(s, 0.9), "mean": sum(s) / len(s), "count": len(s)}


def blas_info():
    """pytorch_bench.py's BLAS detection when it lies beside this script; else a note."""
    here = os.path.dirname(os.path.abspath(__file__))
    if os.path.isfile(os.path.join(here, "pytorch_bench.py")):
        sys.path.insert(0, here)
        try:
            import pytorch_bench
            k = pytorch_bench.blas_kernel()
            return k, pytorch_bench.blas_summary(k)
        except Exception as e:  # noqa: BLE001 (a reporting aid only)
            return {"library": "unknown", "optimized": None, "note": "detection failed: %s" % e}, "unknown"
        finally:
            sys.path.remove(here)
    return {"library": "unknown", "optimized": None, "note": "pytorch_bench.py is not beside this script"}, "unknown"


def main(argv):
    a = parse_args(argv)
    t_start = time.perf_counter()
    import torch
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.autograd.set_detect_anomaly(False)
    torch.set_default_dtype(torch.float32)
    torch.matmul(torch.ones(8, 8), torch.ones(8, 8))  # the BLAS is loaded by now
    kernel, blas = blas_info()
    if BLAS_ENV_IGNORED:
        log("ignored %s from the environment: the reference runs on the BLAS's own kernel choice"
            % ", ".join("%s=%s" % kv for kv in BLAS_ENV_IGNORED.items()))

    ids, chars, split, nbytes = load_text(a.text, a.val_fraction, a.context)
    data = torch.tensor(ids, dtype=torch.long)
    train_data = data[:split]
    val_data = data[split:]
    starts = val_window_starts(len(val_data), a.context, a.eval_windows)
    vocab = len(chars)
    T = a.context

    torch.manual_seed(a.seed)
    model, mode = build(torch, a, vocab)
    model.train()
    params = {pn: p for pn, p in model.named_parameters() if p.requires_grad}
    decay = [p for p in params.values() if p.dim() >= 2]
    no_decay = [p for p in params.values() if p.dim() < 2]
    n_params = sum(p.numel() for p in params.values())
    foreach = a.foreach != "off"
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps, foreach=foreach)
    gen = torch.Generator().manual_seed(a.seed)
    log("torch %s, %d threads, BLAS %s, OMP_WAIT_POLICY=%s; %s: %d characters, vocabulary %d, train %d, "
        "validation %d (%d windows); GPT %d layers %d heads %d wide, context %d, %d parameters, attention %s"
        % (torch.__version__, torch.get_num_threads(), blas, os.environ.get("OMP_WAIT_POLICY"), a.text, len(ids),
           vocab, split, len(val_data), len(starts), a.layers, a.heads, a.embd, T, n_params, mode))

    step_seconds = []
    losses = []
    norms = []
    t_train = time.perf_counter()
    for step in range(a.steps):
        t0 = time.perf_counter()
        ix = torch.randint(len(train_data) - T, (a.batch_size,), generator=gen)
        x = torch.stack([train_data[i:i + T] for i in ix.tolist()])
        y = torch.stack([train_data[i + 1:i + 1 + T] for i in ix.tolist()])
        lr = lr_at(a, step)
        for g in opt.param_groups:
            g["lr"] = lr
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if a.clip_norm > 0:
            norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip_norm)))
        opt.step()
        lv = loss.item()
        step_seconds.append(time.perf_counter() - t0)
        losses.append(lv)
        if not math.isfinite(lv):
            raise SystemExit("pytorch_gpt_bench: the loss is %s at step %d" % (lv, step))
        if step % 100 == 0 or step == a.steps - 1:
            log("step %d/%d: loss %.4f, lr %.2e, %.1f ms/step" % (step + 1, a.steps, lv, lr, 1e3 * step_seconds[-1]))
    train_seconds = time.perf_counter() - t_train

    t_eval = time.perf_counter()
    model.eval()
    total = 0.0
    with torch.inference_mode():
        for b in range(0, len(starts), a.eval_batch):
            chunk = starts[b:b + a.eval_batch]
            x = torch.stack([val_data[s:s + T] for s in chunk])
            y = torch.stack([val_data[s + 1:s + 1 + T] for s in chunk])
            total += model(x, y).item() * len(chunk)
    val_loss = total / len(starts)
    eval_seconds = time.perf_counter() - t_eval
    log("validation loss %.4f over %d windows (%.1f s)" % (val_loss, len(starts), eval_seconds))

    skip = min(a.skip_steps, a.steps - 1)
    timed = step_seconds[skip:]
    tokens = a.batch_size * T
    st = summary(timed)
    tail = losses[-min(100, len(losses)):]
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    result = {
        "reference": "pytorch",
        "benchmark": "gpt",
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "env": {k: v for k, v in sorted(os.environ.items())
                if k.startswith(("OPENBLAS_", "GOTO_", "OMP_", "MKL_", "BLIS_", "KMP_"))},
        "blas": blas,
        "blas_kernel": kernel,
        "blas_build": found.group(1) if found else "",
        "blas_env_ignored": BLAS_ENV_IGNORED,
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "dtype": "float32",
        "attention": mode,
        "text": {"path": os.path.abspath(a.text), "bytes": nbytes, "characters": len(ids), "vocab": vocab,
                 "train_tokens": split, "val_tokens": len(val_data), "val_windows": len(starts)},
        "model": {"layers": a.layers, "heads": a.heads, "embd": a.embd, "context": T, "vocab": vocab,
                  "parameters": n_params, "bias": True, "gelu": "tanh", "tied": True, "dropout": 0.0},
        "optimizer": {"name": "adamw", "lr": a.lr, "min_lr": a.min_lr, "warmup": a.warmup,
                      "schedule": "linear warm-up, cosine to min_lr at the last step", "betas": [a.beta1, a.beta2],
                      "eps": a.eps, "weight_decay": a.weight_decay, "decay": "tensors of 2 or more dimensions",
                      "clip_norm": a.clip_norm, "foreach": foreach},
        "batch_size": a.batch_size,
        "seed": a.seed,
        "gpt": {
            "steps": a.steps,
            "skipped_steps": skip,
            "timed_steps": len(timed),
            "tokens_per_step": tokens,
            "timing": "each training step alone (batch gather, forward, backward, clip, AdamW, loss read back);"
                      " the first skipped_steps steps and the evaluation are not timed",
            "step_seconds": st,
            "block_median_seconds": [statistics.median(step_seconds[max(b, skip):b + 100])
                                     for b in range(0, len(step_seconds), 100) if max(b, skip) < min(b + 100, len(step_seconds))],
            "tokens_per_second": {"median": tokens / st["median"], "min": tokens / st["max"],
                                  "max": tokens / st["min"], "p10": tokens / st["p90"], "p90": tokens / st["p10"],
                                  "mean": tokens * len(timed) / sum(timed)},
            "train_seconds": train_seconds,
            "eval_seconds": eval_seconds,
            "wall_seconds": time.perf_counter() - t_start,
            "first_loss": losses[0],
            "final_train_loss": sum(tail) / len(tail),
            "final_grad_norm": norms[-1] if norms else None,
            "val_loss": val_loss,
            "val_windows": len(starts),
            "loss_every_100": [losses[i] for i in range(0, len(losses), 100)],
        },
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
