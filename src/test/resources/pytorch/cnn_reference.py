#!/usr/bin/python3
"""Writes cnn_reference.safetensors: a small CNN's forward, loss and every gradient, computed by
PyTorch in float64 from float32 initial weights and inputs, and the losses of 5 SGD and 5 AdamW
steps. `PyTorchCnnReferenceTest` requires Salvo to match it on every available provider.

The network is written in Salvo's JSON form into the file's metadata (key "net"), so both sides
build the same graph: conv2d (bias, padding 1), batch norm, ReLU, max pooling, a second conv2d
(no bias), a residual add, average pooling, flatten, dense, 1-D batch norm, tanh, dense, softmax
cross-entropy. Training mode throughout (batch statistics). Dropout is not here: its mask comes
from Salvo's own counter-based generator, which the device contract checks across providers.

Run on the CPU with Debian's PyTorch: /usr/bin/python3 cnn_reference.py OUT.safetensors
"""
import json
import struct
import sys

import torch
import torch.nn as nn

NET = {
    "input": [3, 8, 8],
    "layers": [
        {"type": "conv2d", "out": 4, "kernel": 3, "padding": 1},
        {"type": "batchnorm"},
        {"type": "relu"},
        {"type": "maxpool", "kernel": 2, "name": "p1"},
        {"type": "conv2d", "out": 4, "kernel": 3, "padding": 1, "bias": False},
        {"type": "batchnorm"},
        {"type": "relu", "name": "r2"},
        {"type": "add", "inputs": ["p1", "r2"]},
        {"type": "avgpool", "kernel": 2},
        {"type": "flatten"},
        {"type": "dense", "units": 8},
        {"type": "batchnorm"},
        {"type": "tanh"},
        {"type": "dense", "units": 5},
    ],
    "loss": "cross-entropy",
}
ROWS = 6
SGD_LR = 0.05
ADAMW = dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
STEPS = 5


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        # indices match Salvo's parameter names layers.<i>.weight (p1/r2 are named, their layers have no parameters)
        self.layers = nn.ModuleDict({
            "0": nn.Conv2d(3, 4, 3, padding=1),
            "1": nn.BatchNorm2d(4),
            "4": nn.Conv2d(4, 4, 3, padding=1, bias=False),
            "5": nn.BatchNorm2d(4),
            "10": nn.Linear(16, 8),
            "11": nn.BatchNorm1d(8),
            "13": nn.Linear(8, 5),
        })

    def forward(self, x):
        L = self.layers
        p1 = torch.nn.functional.max_pool2d(torch.relu(L["1"](L["0"](x))), 2)
        r2 = torch.relu(L["5"](L["4"](p1)))
        a = torch.nn.functional.avg_pool2d(p1 + r2, 2)
        h = torch.tanh(L["11"](L["10"](torch.flatten(a, 1))))
        return L["13"](h)


def named_params(net):
    return [("layers." + k + "." + n, p) for k, m in net.layers.items() for n, p in m.named_parameters(recurse=False)]


def write_safetensors(path, tensors, meta):
    header = {"__metadata__": meta}
    blobs = []
    off = 0
    for name, t in tensors:
        data = t.detach().to(torch.float64).contiguous().numpy().astype("<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "cnn_reference.safetensors"
    torch.manual_seed(20261204)
    net = Net()
    with torch.no_grad():  # every parameter random (BN scales too) and exactly a float32 value
        for _, p in named_params(net):
            p.copy_(torch.randn_like(p) * 0.5)
    x = torch.randn(ROWS, 3, 8, 8).to(torch.float32)
    y = torch.randint(0, 5, (ROWS,))
    init = {n: p.detach().clone().to(torch.float32) for n, p in named_params(net)}
    net = net.double()
    loss_fn = nn.CrossEntropyLoss()

    tensors = [("input", x), ("labels", y.to(torch.float64))]
    tensors += [("init." + n, t) for n, t in init.items()]
    net.train()
    logits = net(x.double())
    loss = loss_fn(logits, y)
    loss.backward()
    tensors.append(("logits", logits))
    tensors.append(("loss", loss.reshape(1)))
    tensors += [("grad." + n, p.grad) for n, p in named_params(net)]

    for name, make in (("sgd", lambda ps: torch.optim.SGD(ps, lr=SGD_LR)),
                       ("adamw", lambda ps: torch.optim.AdamW(ps, **ADAMW))):
        fresh = Net().double()
        with torch.no_grad():
            for n, p in named_params(fresh):
                p.copy_(init[n].double())
        fresh.train()
        opt = make(fresh.parameters())
        losses = []
        for _ in range(STEPS):
            opt.zero_grad()
            l = loss_fn(fresh(x.double()), y)
            losses.append(l.item())
            l.backward()
            opt.step()
        tensors.append((name + ".losses", torch.tensor(losses, dtype=torch.float64)))

    meta = {"net": json.dumps(NET), "rows": str(ROWS), "sgd_lr": str(SGD_LR), "adamw": json.dumps(ADAMW),
            "steps": str(STEPS), "torch": torch.__version__,
            "note": "written by src/test/resources/pytorch/cnn_reference.py; float64 from float32 inputs and weights"}
    write_safetensors(out, tensors, meta)
    print("wrote", out, "loss", loss.item())


if __name__ == "__main__":
    main()
