#!/usr/bin/python3
"""torchvision's way of loading an image folder: ImageFolder (PIL, convert("RGB") or "L") with the same
transforms, through a DataLoader with batch 64 and num_workers W; images per second, best of R runs.
  torchvision_load.py ROOT WORKERS [RESIZE CROP] [RUNS]
"""
import sys, time
import torch, torchvision
import torchvision.transforms as T
from PIL import Image

root, workers = sys.argv[1], int(sys.argv[2])
resize = int(sys.argv[3]) if len(sys.argv) > 4 else 0
crop = int(sys.argv[4]) if len(sys.argv) > 4 else 0
runs = int(sys.argv[5]) if len(sys.argv) > 5 else 3
torch.set_num_threads(1)
t = ([T.Resize(resize), T.CenterCrop(crop)] if resize else []) + [T.ToTensor()]
# Gray folders stay gray (glassbox keeps channels by default); photographs become RGB.
loader_mode = "RGB" if resize else "L"
ds = torchvision.datasets.ImageFolder(root, transform=T.Compose(t), loader=lambda p: Image.open(p).convert(loader_mode))
best = 1e30
for _ in range(runs):
    t0 = time.perf_counter()
    n = 0
    for x, y in torch.utils.data.DataLoader(ds, batch_size=64, num_workers=workers):
        n += x.shape[0]
    best = min(best, time.perf_counter() - t0)
print(f"{n / best:.0f} images/s ({n} images in {best:.3f} s)")
