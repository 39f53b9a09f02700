#!/usr/bin/python3
"""Bounded mutation test of the model files glassbox reads: a real checkpoint (written by `glassbox train`)
and a real TorchScript module (torch.jit.script in Python), damaged at many offsets: raw bit flips, byte
deletions and truncations, and the same inside data.pkl and the code files with the zip rewritten valid
around them (CRCs recomputed, so only glassbox's own checks or libtorch's parsers can notice).

  mutate-model-files.py GLASSBOX WORKDIR

Every case must end with exit status 2 and one non-empty line naming the file, never a signal, except
where exit 0 is right: a TorchScript file carries no digest, so a mutant that is the same archive with
the same entries (a flip in zip padding) or a still-valid program loads; those are counted and listed.
glassbox's checkpoints are data only (a safetensors file whose digest covers every byte that matters):
every mutant of them must be refused. Prints a summary; exits 1 on a
violation.
"""
import collections, io, json, os, random, shutil, struct, subprocess, sys, zipfile
from concurrent.futures import ThreadPoolExecutor

import torch

glassbox, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
rng = random.Random(1)

# A small IDX dataset (1 x 8 x 8, 3 classes) for the commands.
data = os.path.join(work, "data")
os.makedirs(data, exist_ok=True)
for split in ("train", "t10k"):
    n = 48
    with open(os.path.join(data, f"{split}-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 8, 8) + bytes((i * 7) % 256 for i in range(n * 64)))
    with open(os.path.join(data, f"{split}-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + bytes(i % 3 for i in range(n)))

run = subprocess.run([glassbox, "train", "--data", data, "--model", "mlp", "--hidden", "8", "--epochs", "1", "--quiet",
                      "--logdir", os.path.join(work, "run")], capture_output=True, text=True)
assert run.returncode == 0, run.stderr
checkpoint = os.path.join(work, "run", "checkpoints", "last.ckpt")
torch.manual_seed(0)
script = torch.jit.script(torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                                              torch.nn.Linear(4 * 6 * 6, 3)))
torchscript = os.path.join(work, "model.pt")
script.save(torchscript)


def entries(data_bytes):
    """The archive's (name, content) pairs, or None if Python's zipfile cannot read it intact."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data_bytes))
        if z.testzip() is not None:
            return None
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]
    except Exception:
        return None


def rezip(original, victim, mutate):
    """The archive with one entry's content mutated, rewritten valid (stored), its comment kept."""
    z = zipfile.ZipFile(io.BytesIO(original))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as w:
        for info in z.infolist():
            content = z.read(info.filename)
            w.writestr(info.filename, mutate(content) if info.filename == victim else content)
        w.comment = z.comment
    return out.getvalue()


def offsets(size, count):
    return sorted(set(rng.randrange(size) for _ in range(count)))


def mutants(path, inside_names):
    original = open(path, "rb").read()
    cases = []
    for o in offsets(len(original), 30):
        b = bytearray(original); b[o] ^= 1 << rng.randrange(8)
        cases.append((f"flip@{o}", bytes(b), "raw"))
    for o in offsets(len(original), 30):
        cases.append((f"delete@{o}", original[:o] + original[o + 1:], "raw"))
    for o in offsets(len(original), 20):
        cases.append((f"truncate@{o}", original[:o], "raw"))
    if inside_names is None:  # not an archive
        return original, cases
    z = zipfile.ZipFile(io.BytesIO(original))
    for name in inside_names(z.namelist()):
        size = len(z.read(name))
        for o in offsets(size, 12):
            cases.append((f"{os.path.basename(name)}:delete@{o}", rezip(original, name, lambda c, o=o: c[:o] + c[o + 1:]), "inside"))
        for o in offsets(size, 6):
            cases.append((f"{os.path.basename(name)}:flip@{o}",
                          rezip(original, name, lambda c, o=o: c[:o] + bytes([c[o] ^ 0x20]) + c[o + 1:]), "inside"))
    return original, cases


def pickle_and_code(names):
    pkl = [n for n in names if n.endswith("/data.pkl")]
    code = [n for n in names if n.endswith(".py")][:2]
    return pkl + code


def run_case(kind, flag, label, content, how, original):
    path = os.path.join(work, "mutants", f"{kind}-{label.replace('/', '_').replace(':', '_')}")
    with open(path, "wb") as f:
        f.write(content)
    out = path + ".png"
    args = [glassbox, "explain", flag, path, "--data", data, "--index", "0", "--target", "1", "--out", out]
    if kind == "checkpoint" and label.endswith("0"):  # a share of the checkpoints through train --resume
        args = [glassbox, "train", "--data", data, "--epochs", "2", "--quiet", "--resume", path]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    for leftover in (path, out):
        if os.path.exists(leftover):
            os.unlink(leftover)
    same = how == "raw" and kind == "torchscript" and entries(content) == entries(original)
    return kind, label, how, r.returncode, r.stderr, same, os.path.basename(path)


os.makedirs(os.path.join(work, "mutants"), exist_ok=True)
jobs = []
ck_original, ck_cases = mutants(checkpoint, None)
jobs += [("checkpoint", "--checkpoint", label, content, how, ck_original) for label, content, how in ck_cases]
ts_original, ts_cases = mutants(torchscript, pickle_and_code)
jobs += [("torchscript", "--torchscript", label, content, how, ts_original) for label, content, how in ts_cases]

violations, counts, loaded = [], collections.Counter(), []
with ThreadPoolExecutor(2) as pool:
    for kind, label, how, rc, stderr, same, name in pool.map(lambda j: run_case(*j), jobs):
        lines = stderr.splitlines()
        if rc < 0 or rc >= 128:
            violations.append(f"{kind} {label}: killed by signal ({rc})")
        elif rc == 2:
            counts[(kind, how, "crash caught" if "libtorch crashed" in stderr else "refused")] += 1
            if len(lines) != 1 or not lines[0].startswith("glassbox: error: ") or len(lines[0]) <= 17:
                violations.append(f"{kind} {label}: not one error line: {stderr!r}")
            elif name not in lines[0]:
                violations.append(f"{kind} {label}: the error does not name the file: {lines[0]}")
        elif rc == 0 and kind == "torchscript" and (same or how == "inside"):
            counts[(kind, how, "loaded (same archive)" if same else "loaded (still a valid program)")] += 1
            loaded.append(f"{kind} {label}")
        else:
            violations.append(f"{kind} {label}: exit {rc}: {stderr.strip()[:200]}")

print(json.dumps({"cases": len(jobs), "outcomes": {" / ".join(k): v for k, v in sorted(counts.items())},
                  "loaded": loaded, "violations": violations}, indent=1))
sys.exit(1 if violations else 0)
