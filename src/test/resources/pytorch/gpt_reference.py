#!/usr/bin/python3
"""Writes gpt_reference.safetensors: a tiny character GPT (nanoGPT's model: 2 layers, 2 heads,
32 wide, context 16, the text's character vocabulary) on one batch: its logits, loss and every
parameter gradient, then the losses of 10 AdamW steps with gradient clipping.
`PyTorchGptReferenceTest` requires Salvo to match it on every available provider; the design
document ("Checked against PyTorch") states the bounds.

The model is nanoGPT's `model.py` (Karpathy) written out: token and position embeddings, per block
LayerNorm (bias) -> c_attn -> causal attention (explicit q k^T / sqrt(d), masked_fill -inf,
softmax; nanoGPT's non-flash path, the only one PyTorch 1.13 has) -> c_proj -> residual,
LayerNorm -> c_fc -> GELU (tanh approximation) -> c_proj -> residual, final LayerNorm, lm_head
tied to wte (no bias). Linear and LayerNorm have biases; dropout 0; LayerNorm eps 1e-5.
Initialization as nanoGPT, in its order, from torch.manual_seed(SEED): normal(0, 0.02) for every
Linear and Embedding weight (apply() visits lm_head last, so the tied wte.weight ends up with
lm_head's draw, exactly as in nanoGPT), zero biases, LayerNorm weight 1 bias 0, then every
c_proj.weight redrawn normal(0, 0.02 / sqrt(2 * n_layer)).

Precision: the weights are drawn in float32 (so each is exactly a float32 value), then the model
is converted to float64 and everything written here is computed in float64 from those float32
values (as cnn_reference.py does), so the file is the exact answer for the float32 inputs and the
bounds of the Java test measure Salvo's float32 error alone. The same run in float32 PyTorch is
also made; its distance from float64 is written into the metadata ("f32_vs_f64") as a yardstick.
Tensors are stored as F32 (the Java reader reads float32; rounding float64 to float32 is 6e-8
relative, far inside every bound).

Tensors: init.<name> (every parameter, nanoGPT names without "transformer."; the tied weight
once, as wte.weight), x (B, T) and y (B, T) (token ids as floats, exact), logits (B, T, V),
loss (1), grad.<name> (the tied weight's gradient is the sum of both uses, as autograd gives),
adamw.losses (10): the loss of step k computed on the batch before update k, k = 1..10, so
adamw.losses[0] equals loss; adamw.grad_norms (10): the global gradient norm before clipping at
each step (clipping bites when it is above 1); adamw.losses_f32 (10): the same in float32 PyTorch.
adamw.final.<name>: after the 10 updates, every tensor of fewer than 2 dimensions (biases and
layer-norm parameters, which take no decay: were the layer-norm weights decayed they would sit
1e-3 lower, where the 10 losses move by only 1.3e-4 relative).
trainer.losses (10): the same 10 steps on a batch of B copies of window TRAINER_ROW (x[1], y[1]):
the batch Salvo's Trainer.fit(TextWindows) draws when the training split is that one window
(every window start it can draw is 0), so the Java test runs the trainer's own loop on it.

Hot weights: at nanoGPT's initialization the activations are small (GELU's inputs have a standard
deviation of about 0.1, attention is nearly uniform), where tanh-GELU and erf-GELU differ by 2e-6
of the logits: no bound a float32 test can keep would notice. So the file also holds hot.logits,
hot.loss and hot.grad.<name> for the same model and batch with every tensor of 2 or more
dimensions multiplied by HOT = 16 (exact in float32; layer-norm parameters and biases unchanged):
GELU's inputs have a standard deviation of about 1.8 (up to 7.8), the attention scores about 3
(up to 13.5), the logits reach 6.8. There erf-GELU moves
the logits by 2.5e-4 and the gradients by 9e-4 of their largest.

Text: any UTF-8 file; the vocabulary is the sorted distinct characters of the whole text; the
batch is B windows of T+1 characters at fixed evenly spaced starts (metadata "starts").

Run on the CPU with Debian's PyTorch:
  /usr/bin/python3 gpt_reference.py TEXT OUT.safetensors [TEXT_SOURCE]
TEXT_SOURCE (optional) is recorded in the metadata to say where TEXT came from:
"resource:/salvo/data/kjv-genesis.txt" (a classpath resource) or "command:bible Gen1:1-Gen50:26";
GptReferenceScriptTest fetches the text from it to run the script again. The committed file:
  /usr/bin/python3 src/test/resources/pytorch/gpt_reference.py src/main/resources/salvo/data/kjv-genesis.txt \
      src/test/resources/pytorch/gpt_reference.safetensors resource:/salvo/data/kjv-genesis.txt
"""
import hashlib
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20261214
LAYERS, HEADS, EMBD, CONTEXT = 2, 2, 32, 16
BATCH = 4
LN_EPS = 1e-5
STEPS = 10
HOT = 16
TRAINER_ROW = 1
ADAMW = dict(lr=1e-3, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
CLIP = 1.0


class LayerNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n))

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, LN_EPS)


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(EMBD, 3 * EMBD, bias=True)
        self.c_proj = nn.Linear(EMBD, EMBD, bias=True)
        self.register_buffer("mask", torch.tril(torch.ones(CONTEXT, CONTEXT)).view(1, 1, CONTEXT, CONTEXT))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(EMBD, dim=2)
        k = k.view(B, T, HEADS, C // HEADS).transpose(1, 2)
        q = q.view(B, T, HEADS, C // HEADS).transpose(1, 2)
        v = v.view(B, T, HEADS, C // HEADS).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(EMBD, 4 * EMBD, bias=True)
        self.c_proj = nn.Linear(4 * EMBD, EMBD, bias=True)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = LayerNorm(EMBD)
        self.attn = CausalSelfAttention()
        self.ln_2 = LayerNorm(EMBD)
        self.mlp = MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab, EMBD),
            wpe=nn.Embedding(CONTEXT, EMBD),
            h=nn.ModuleList([Block() for _ in range(LAYERS)]),
            ln_f=LayerNorm(EMBD),
        ))
        self.lm_head = nn.Linear(EMBD, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as nanoGPT
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * LAYERS))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    def named(self):
        """Parameters by Salvo's names (nanoGPT's without "transformer."), the tied weight once as wte.weight."""
        out = []
        for n, p in self.named_parameters():  # named_parameters() yields a shared tensor once, first name
            assert not n.startswith("lm_head"), n
            out.append((n[len("transformer."):] if n.startswith("transformer.") else n, p))
        return out

    def optimizer(self):
        """nanoGPT's configure_optimizers: decay on every tensor of 2 or more dimensions, none on the rest."""
        ps = [p for _, p in self.named()]
        groups = [{"params": [p for p in ps if p.dim() >= 2], "weight_decay": ADAMW["weight_decay"]},
                  {"params": [p for p in ps if p.dim() < 2], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])


def write_safetensors(path, tensors, meta):
    header = {"__metadata__": meta}
    blobs = []
    off = 0
    for name, t in tensors:
        data = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def fresh(vocab, init, dtype):
    m = GPT(len(vocab)).to(dtype)
    with torch.no_grad():
        for n, p in m.named():
            p.copy_(init[n].to(dtype))
    return m


def forward_backward(m, x, y):
    logits, loss = m(x, y)
    loss.backward()
    return logits.detach(), loss.detach(), {n: p.grad.detach().clone() for n, p in m.named()}


def train(m, x, y):
    opt = m.optimizer()
    losses, norms = [], []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        _, loss = m(x, y)
        losses.append(loss.item())
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(m.parameters(), CLIP).item())
        opt.step()
    return losses, norms


def rel_dist(a, b):
    """max |a - b| / max |b| over a tensor."""
    return ((a.double() - b.double()).abs().max() / b.double().abs().max().clamp_min(1e-300)).item()


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: gpt_reference.py TEXT OUT.safetensors [TEXT_SOURCE]")
    text_path, out = sys.argv[1], sys.argv[2]
    source = sys.argv[3] if len(sys.argv) > 3 else text_path
    raw = open(text_path, "rb").read()
    text = raw.decode("utf-8")
    vocab = "".join(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    span = len(text) - (CONTEXT + 1)
    starts = [i * span // BATCH for i in range(BATCH)]
    ids = torch.tensor([[index[c] for c in text[s:s + CONTEXT + 1]] for s in starts], dtype=torch.long)
    x, y = ids[:, :-1].contiguous(), ids[:, 1:].contiguous()

    torch.manual_seed(SEED)
    model = GPT(len(vocab))
    init = {n: p.detach().clone() for n, p in model.named()}
    assert all(t.dtype == torch.float32 for t in init.values())

    tensors = [("init." + n, t) for n, t in init.items()]
    tensors += [("x", x.to(torch.float64)), ("y", y.to(torch.float64))]

    hot = {n: t * HOT if t.dim() >= 2 else t for n, t in init.items()}
    results = {}
    for dtype in (torch.float64, torch.float32):
        logits, loss, grads = forward_backward(fresh(vocab, init, dtype), x, y)
        trained = fresh(vocab, init, dtype)
        losses, norms = train(trained, x, y)
        results[dtype] = (logits.detach(), loss.detach(), grads, losses, norms)
        if dtype == torch.float64:
            final = [("adamw.final." + n, p.detach().clone()) for n, p in trained.named() if p.dim() < 2]

    logits, loss, grads, losses, norms = results[torch.float64]
    tensors.append(("logits", logits))
    tensors.append(("loss", loss.reshape(1)))
    tensors += [("grad." + n, g) for n, g in grads.items()]
    tensors.append(("adamw.losses", torch.tensor(losses, dtype=torch.float64)))
    tensors.append(("adamw.grad_norms", torch.tensor(norms, dtype=torch.float64)))
    tensors += final
    l32, loss32, g32, losses32, _ = results[torch.float32]
    tensors.append(("adamw.losses_f32", torch.tensor(losses32, dtype=torch.float64)))
    xr, yr = x[TRAINER_ROW:TRAINER_ROW + 1].repeat(BATCH, 1), y[TRAINER_ROW:TRAINER_ROW + 1].repeat(BATCH, 1)
    trainer_losses, trainer_norms = train(fresh(vocab, init, torch.float64), xr, yr)
    tensors.append(("trainer.losses", torch.tensor(trainer_losses, dtype=torch.float64)))
    tensors.append(("trainer.grad_norms", torch.tensor(trainer_norms, dtype=torch.float64)))
    hot_logits, hot_loss, hot_grads = forward_backward(fresh(vocab, hot, torch.float64), x, y)
    hot32_logits, _, hot32_grads = forward_backward(fresh(vocab, hot, torch.float32), x, y)
    tensors.append(("hot.logits", hot_logits))
    tensors.append(("hot.loss", hot_loss.reshape(1)))
    tensors += [("hot.grad." + n, g) for n, g in hot_grads.items()]
    assert abs(losses[0] - loss.item()) < 1e-12

    f32 = {"logits": rel_dist(l32, logits), "loss": rel_dist(loss32, loss),
           "grad_max": max(rel_dist(g32[n], grads[n]) for n in grads),
           "adamw_losses_max_rel": max(abs(a - b) / abs(b) for a, b in zip(losses32, losses)),
           "hot_logits": rel_dist(hot32_logits, hot_logits), "hot_grad_max": max(rel_dist(hot32_grads[n], hot_grads[n]) for n in hot_grads)}
    config = {"layers": LAYERS, "heads": HEADS, "embd": EMBD, "context": CONTEXT, "vocab": len(vocab), "bias": True,
              "dropout": 0.0, "layernorm_eps": LN_EPS, "gelu": "tanh", "tied": True, "batch": BATCH, "seed": SEED}
    meta = {"config": json.dumps(config), "vocab": vocab, "starts": json.dumps(starts),
            "text_source": source, "text_sha256": hashlib.sha256(raw).hexdigest(), "text_chars": str(len(text)),
            "steps": str(STEPS), "adamw": json.dumps(ADAMW), "decay": "every tensor of 2+ dimensions (wte, wpe, linear weights)",
            "clip_norm": str(CLIP), "hot": str(HOT), "trainer_row": str(TRAINER_ROW), "losses": "adamw.losses[k] is the loss before update k+1; adamw.losses[0] == loss",
            "f32_vs_f64": json.dumps(f32), "torch": torch.__version__,
            "note": "written by src/test/resources/pytorch/gpt_reference.py; float64 from float32 weights, stored as F32"}
    write_safetensors(out, tensors, meta)
    print("wrote", out, "vocab", len(vocab), "loss", loss.item())
    print("losses", " ".join("%.6f" % v for v in losses))
    print("grad norms", " ".join("%.4f" % v for v in norms))
    print("trainer losses", " ".join("%.6f" % v for v in trainer_losses))
    print("trainer grad norms", " ".join("%.4f" % v for v in trainer_norms))
    print("float32 vs float64", json.dumps(f32))


if __name__ == "__main__":
    main()
