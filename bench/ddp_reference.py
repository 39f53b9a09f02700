#!/usr/bin/python3
"""PyTorch's own data parallelism, the reference for glassbox's distributed training.

Trains glassbox's `cnn` (or the seed's `linear` model) on an IDX dataset for one epoch with
torch.nn.parallel.DistributedDataParallel over the Gloo backend: RANKS processes on this machine, each
with THREADS compute threads and a DistributedSampler shard of a shuffled 55,000-sample training split,
batch 64 per rank, Adam. Data is held as one float tensor (Python's best case: no DataLoader workers).
Prints rank 0's training-loop time and the samples per second of all ranks together:

  ranks 2, threads 1, cnn: 55000 samples in 97.123 s, 566 samples/s

usage: ddp_reference.py --data DIR [--model cnn|linear] [--ranks N] [--threads T] [--bucket-cap-mb MB]
"""
import argparse, gzip, os, socket, struct, time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F


def read_idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    _, _, ndim = struct.unpack(">HBB", data[:4])
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(d, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise SystemExit(f"no {stem}[.gz] in {d}")


class Cnn(torch.nn.Module):  # glassbox's cnn: two 3x3 conv blocks (32, 64 channels), a 256-wide head
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = torch.nn.Linear(64 * 7 * 7, 256)
        self.fc2 = torch.nn.Linear(256, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        return self.fc2(F.relu(self.fc1(h.flatten(1))))


class Linear(torch.nn.Module):  # the seed's model
    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(28 * 28, 10)

    def forward(self, x):
        return torch.relu(self.l1(x.flatten(1)))


def rank_main(rank, a, port):
    torch.set_num_threads(a.threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=a.ranks)
    torch.manual_seed(0)
    X = read_idx(find(a.data, "train-images-idx3-ubyte"))
    Y = read_idx(find(a.data, "train-labels-idx1-ubyte")).astype(np.int64)
    Xt = torch.from_numpy(X.copy()).float().div_(255).unsqueeze(1)
    Yt = torch.from_numpy(Y)
    train = torch.randperm(len(Yt))[:55000]
    model = Cnn() if a.model == "cnn" else Linear()
    ddp = torch.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=a.bucket_cap_mb)
    opt = torch.optim.Adam(ddp.parameters(), lr=0.001 if a.model == "cnn" else 0.005)
    # DistributedSampler's shard of a shuffled order: every world_size-th sample from rank's offset.
    order = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(1))]
    mine = order[rank::a.ranks]
    dist.barrier()
    t0 = time.perf_counter()
    for i in range(0, len(mine), 64):
        idx = mine[i:i + 64]
        loss = F.cross_entropy(ddp(Xt[idx]), Yt[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    dist.barrier()
    dt = time.perf_counter() - t0
    if rank == 0:
        print(f"ranks {a.ranks}, threads {a.threads}, {a.model}: {len(mine) * a.ranks} samples in {dt:.3f} s, "
              f"{len(mine) * a.ranks / dt:.0f} samples/s", flush=True)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default="cnn", choices=["cnn", "linear"])
    ap.add_argument("--ranks", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bucket-cap-mb", type=float, default=25)
    a = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(rank_main, args=(a, port), nprocs=a.ranks)


if __name__ == "__main__":
    main()
