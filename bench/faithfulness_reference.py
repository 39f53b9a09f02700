#!/usr/bin/python3
"""Deletion and insertion (Petsiuk et al. 2018, RISE) the way its reference code and Quantus compute them: one
sample at a time, one forward per step, each step's image built from the last. Same definitions as glassbox's
(evaluate/metric-options.h): pixels ordered by the attribution summed over channels, largest first (stable);
step k of S has changed floor(k * H * W / S) pixels; deletion sets them to zero, insertion reveals them over
RISE's gkern(11, 5) blur; the curve is the target's softmax probability; the score its trapezoidal area.

  faithfulness_reference.py --out DIR [--arch resnet18|mnist_cnn] [--photos 16] [--steps 50] [--threads 1] [--size 224]

Writes to DIR: model.pt (resnet18: torchvision's ResNet-18 on skimage's photographs, resized and cropped,
ImageNet-normalised; mnist_cnn: a small CNN (two conv blocks, two linear layers) on the first mnist test digits
of data/mnist, 28 x 28; both seeded, scripted), x.raw [N, C, size, size], a.raw (saliency |d logit / dx|), t.raw
(each top class), deletion.raw and insertion.raw [N, steps + 1] (float64); prints "seconds S" for the two curves
of every input.
"""
import argparse, os, time
import numpy as np, scipy.stats as st, torch, torch.nn.functional as F, torchvision
from skimage import data, transform

p = argparse.ArgumentParser()
p.add_argument("--out", required=True); p.add_argument("--photos", type=int, default=16)
p.add_argument("--steps", type=int, default=50); p.add_argument("--threads", type=int, default=1)
p.add_argument("--size", type=int, default=224); p.add_argument("--arch", default="resnet18")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
if a.arch == "resnet18":
    net = torchvision.models.resnet18(num_classes=1000).eval()
else:
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(32 * 7 * 7, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10)).eval()
torch.jit.script(net).save(os.path.join(a.out, "model.pt"))

# The photographs: skimage's colour ones, two crops each (the central square, and the top-left square of 3/4 its side).
names = ["astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "colorwheel", "retina", "logo"]
images = []
for name in names if a.arch == "resnet18" else []:
    if not hasattr(data, name):
        continue
    try:
        img = getattr(data, name)()
    except Exception:
        continue
    if img.ndim != 3:
        continue
    img = img[..., :3].astype(np.float32) / (255.0 if img.dtype == np.uint8 else 1.0)
    h, w = img.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    for crop in (img[y0:y0 + side, x0:x0 + side], img[:side * 3 // 4, :side * 3 // 4]):
        images.append(transform.resize(crop, (a.size, a.size), anti_aliasing=True).astype(np.float32))
if a.arch == "resnet18":
    images = images[:a.photos]
    assert len(images) == a.photos, f"{len(images)} photographs, expected {a.photos}"
    x = torch.tensor(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
else:  # the first test digits, read from the IDX file scripts/setup prepared
    raw = np.fromfile(os.path.join(os.path.dirname(__file__), "..", "data", "mnist", "t10k-images-idx3-ubyte"), dtype=np.uint8)
    x = torch.tensor(raw[16:16 + a.photos * 784].reshape(a.photos, 1, 28, 28).astype(np.float32) / 255)
    mean, std = torch.tensor([0.1307]).view(1, 1, 1, 1), torch.tensor([0.3081]).view(1, 1, 1, 1)
x = (x - mean) / std
C = x.shape[1]
xg = x.clone().requires_grad_(True)
logits = net(xg)
t = logits.argmax(1)
logits.gather(1, t[:, None]).sum().backward()
attr = xg.grad.abs()
def save(name, v): v.tofile(os.path.join(a.out, name))
save("x.raw", x.numpy().astype(np.float32)); save("a.raw", attr.numpy().astype(np.float32)); save("t.raw", t.numpy().astype(np.int64))

def gkern(klen=11, nsig=5):
    k1 = np.diff(st.norm.cdf(np.linspace(-nsig, nsig, klen + 1)))
    k2 = np.outer(k1, k1)
    return torch.tensor(k2 / k2.sum(), dtype=torch.float32).expand(C, 1, klen, klen).contiguous()
kern = gkern()

def curve(img, sal, target, mode):
    """RISE's CausalMetric.single_run: one image, one forward per step."""
    H, W = img.shape[1:]
    N, S = H * W, a.steps
    order = torch.tensor(np.argsort(-sal.sum(0).flatten().numpy(), kind="stable"))
    if mode == "deletion":
        start, finish = img.clone(), torch.zeros_like(img)
    else:
        start, finish = F.conv2d(img[None], kern, padding=5, groups=C)[0], img.clone()
    out = np.empty(S + 1)
    done = 0
    with torch.no_grad():
        for k in range(S + 1):
            n = k * N // S
            idx = order[done:n]
            start.view(C, -1)[:, idx] = finish.view(C, -1)[:, idx]
            done = n
            out[k] = torch.softmax(net(start[None]), 1)[0, target].item()
    return out

with torch.no_grad():
    net(x[:1])  # warm-up, as glassbox's side loads and probes its model before timing
t0 = time.perf_counter()
dele = np.stack([curve(x[i], attr[i], t[i], "deletion") for i in range(len(x))])
ins = np.stack([curve(x[i], attr[i], t[i], "insertion") for i in range(len(x))])
seconds = time.perf_counter() - t0
save("deletion.raw", dele); save("insertion.raw", ins)
print(f"seconds {seconds:.3f}")
