#!/usr/bin/python3
"""Model files that act on the machine when loaded or run, made at test time (python3-torch).

  hostile_models.py OUT_DIR TARGET

All take 1 x 4 x 4 inputs and give 3 logits:
  setstate-writes.pt   a submodule's __setstate__ calls torch.from_file(TARGET, shared=True, size=64),
                       which creates TARGET (or overwrites it) while the file loads
  forward-reads.pt     forward reads TARGET into the model with torch.from_file(TARGET, shared=False)
  deep-nesting.pt      a code file whose forward returns an expression nested 100,000 parentheses deep
                       (the zip rewritten valid around it), which overflows the parser's stack
  loops-on-data.pt     forward returns at once on zeros but never ends on any other input
  loops-on-bright.pt   forward (any H x W, pooled to 4 x 4) never ends once an input value exceeds 100: the
                       contained check's zero and random inputs pass, a real input normalised so far does not
  prints-escapes.pt    forward prints terminal escape sequences (window title, screen clear, 8-bit CSI) and warns with one
"""
import io
import sys
import warnings
import zipfile
from typing import Tuple

import torch

out, target = sys.argv[1], sys.argv[2]


class Writer(torch.nn.Module):
    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.blob = torch.zeros(1)  # kept, so that TorchScript cannot drop the call that makes it

    def forward(self, x):
        return x

    @torch.jit.export
    def __getstate__(self) -> Tuple[str, bool]:
        return (self.path, self.training)

    @torch.jit.export
    def __setstate__(self, state: Tuple[str, bool]):
        self.path = state[0]
        self.training = state[1]
        self.blob = torch.from_file(self.path, True, 64)


class WritesOnLoad(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.writer = Writer(target)
        self.fc = torch.nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(self.writer(x).flatten(1))


class ReadsInForward(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.path = target
        self.fc = torch.nn.Linear(16, 3)

    def forward(self, x):
        stolen = torch.from_file(self.path, False, 4)
        return self.fc(x.flatten(1)) + 0 * stolen.sum()


class LoopsOnData(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(16, 3)

    def forward(self, x):
        s = x.abs().sum()
        while bool(s > 0):  # inf stays > 0: never ends unless the input is all zeros
            s = s * 2 + 1
        return self.fc(x.flatten(1))


class LoopsOnBright(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(16, 3)

    def forward(self, x):
        s = x.max()
        while bool(s > 100):
            s = s * 2 + 1
        return self.fc(torch.nn.functional.adaptive_avg_pool2d(x, 4).flatten(1))


class PrintsEscapes(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(16, 3)

    def forward(self, x):
        print("\x1b]0;owned\x07\x1b[2J\u009b31m")
        warnings.warn("\x1b]0;warned\x07")
        return self.fc(x.flatten(1))


class Plain(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(x.flatten(1))


torch.jit.script(WritesOnLoad()).save(f"{out}/setstate-writes.pt")
torch.jit.script(ReadsInForward()).save(f"{out}/forward-reads.pt")
torch.jit.script(LoopsOnData()).save(f"{out}/loops-on-data.pt")
torch.jit.script(PrintsEscapes()).save(f"{out}/prints-escapes.pt")
torch.jit.script(LoopsOnBright()).save(f"{out}/loops-on-bright.pt")
plain = io.BytesIO()
torch.jit.save(torch.jit.script(Plain()), plain)
source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
with zipfile.ZipFile(f"{out}/deep-nesting.pt", "w", zipfile.ZIP_STORED) as w:
    for info in source.infolist():
        content = source.read(info.filename)
        if info.filename.endswith(".py") and b"def forward" in content:
            head, _, _ = content.partition(b"def forward")
            deep = b"(" * 100000 + b"x" + b")" * 100000
            content = head + b"def forward(self, x: Tensor) -> Tensor:\n    return " + deep + b"\n"
        w.writestr(info.filename, content)
