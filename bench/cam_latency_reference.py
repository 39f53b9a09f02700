#!/usr/bin/python3
"""CAM latency the way torch-cam's published table measures it (its scripts/benchmark.py): the model's forward
runs outside the timer, with hooks on the layer; the timer covers what the CAM adds after it (the backward
from the target score for gradient CAMs, their arithmetic, the upsampling to the input; Score-CAM's,
Ablation-CAM's and ReciproCAM's own forwards). Each method as pytorch-grad-cam and OpenVINO XAI define it.

  cam_latency_reference.py --arch resnet18|mobilenet_v3_large --layer LAYER --methods gradcam,... --threads T
                           --iterations N [--size 224] [--save-torchscript M.pt]

torchvision's architecture with seeded weights (no pretrained weights offline); --save-torchscript writes the
same module scripted, for glassbox's side of the comparison. Prints one line per method:
  METHOD median_ms IQR_ms
"""
import argparse, statistics, time
import torch, torch.nn.functional as F, torchvision

p = argparse.ArgumentParser()
p.add_argument("--arch", default="resnet18"); p.add_argument("--layer", required=True)
p.add_argument("--methods", required=True); p.add_argument("--threads", type=int, default=1)
p.add_argument("--iterations", type=int, default=100); p.add_argument("--size", type=int, default=224)
p.add_argument("--save-torchscript")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
model = getattr(torchvision.models, a.arch)(num_classes=1000).eval()
if a.save_torchscript:
    torch.jit.script(model).save(a.save_torchscript)
layer = dict(model.named_modules())[a.layer]
x = torch.rand(1, 3, a.size, a.size)
seen = {}
def hook(m, i, o):
    seen["A"] = o
    if o.requires_grad:
        o.register_hook(lambda g: seen.__setitem__("G", g))
layer.register_forward_hook(hook)

def upsample(cam):
    return F.interpolate(F.relu(cam)[:, None], size=(a.size, a.size), mode="bilinear", align_corners=False)

def replacing(value, inputs):  # the rest of the network on a replaced layer output
    h = layer.register_forward_hook(lambda m, i, o: value)
    try:
        with torch.no_grad():
            return model(inputs)
    finally:
        h.remove()

def gradient_cam(combine):
    def run(scores, t):
        scores[0, t].backward(retain_graph=True)
        A, G = seen["A"].detach(), seen["G"]
        return upsample(combine(A, G))
    return run

def gradcampp(A, G):
    g2, g3 = G * G, G * G * G
    alpha = torch.where(G != 0, g2 / (2 * g2 + A.sum((2, 3), keepdim=True) * g3 + 1e-6), torch.zeros_like(G))
    return ((alpha * F.relu(G)).sum((2, 3), keepdim=True) * A).sum(1)

def eigencam(scores, t):
    A = seen["A"].detach()[0]
    m = A.reshape(A.size(0), -1).t()
    m = m - m.mean(0)
    v = torch.linalg.svd(m, full_matrices=False)[2][0]
    return upsample((m @ v).reshape(1, A.size(1), A.size(2)))

def scorecam(scores, t):
    A = seen["A"].detach()
    with torch.no_grad():
        up = F.interpolate(A.transpose(0, 1), size=(a.size, a.size), mode="bilinear", align_corners=True)
        lo = up.flatten(1).min(1)[0].view(-1, 1, 1, 1); hi = up.flatten(1).max(1)[0].view(-1, 1, 1, 1)
        masks = (up - lo) / (hi - lo + 1e-8)
        s = torch.cat([model(x * masks[i:i + 32])[:, t] for i in range(0, masks.size(0), 32)])
        return upsample((torch.softmax(s, 0).view(1, -1, 1, 1) * A).sum(1))

def ablationcam(scores, t):
    A = seen["A"].detach(); y = scores[0, t].detach(); K = A.size(1)
    drops = []
    for i in range(0, K, 32):
        n = min(32, K - i)
        v = A.repeat(n, 1, 1, 1)
        v[torch.arange(n), torch.arange(i, i + n)] = 0
        drops.append(replacing(v, x.expand(n, -1, -1, -1))[:, t])
    return upsample((((y - torch.cat(drops)) / y).view(1, -1, 1, 1) * A).sum(1))

kernel = torch.tensor([[1 / 16, 1 / 8, 1 / 16], [1 / 8, 1 / 4, 1 / 8], [1 / 16, 1 / 8, 1 / 16]])
def reciprocam(scores, t):
    A = seen["A"].detach(); h, w = A.shape[2:]
    masks = torch.zeros(h * w, 1, h + 2, w + 2)
    for i in range(h):
        for j in range(w):
            masks[i * w + j, 0, i:i + 3, j:j + 3] = kernel
    masked = A * masks[:, :, 1:h + 1, 1:w + 1]
    p = torch.cat([replacing(masked[i:i + 32], x.expand(min(32, h * w - i), -1, -1, -1)).softmax(1)[:, t]
                   for i in range(0, h * w, 32)])
    return upsample(p.view(1, h, w))

methods = {
    "gradcam": gradient_cam(lambda A, G: (G.mean((2, 3), keepdim=True) * A).sum(1)),
    "gradcampp": gradient_cam(gradcampp),
    "hirescam": gradient_cam(lambda A, G: (G * A).sum(1)),
    "xgradcam": gradient_cam(lambda A, G: ((G * A).sum((2, 3), keepdim=True) / (A.sum((2, 3), keepdim=True) + 1e-7) * A).sum(1)),
    "layercam": gradient_cam(lambda A, G: (F.relu(G) * A).sum(1)),
    "eigencam": eigencam, "scorecam": scorecam, "ablationcam": ablationcam, "reciprocam": reciprocam,
}
for name in a.methods.split(","):
    run = methods[name]
    timings = []
    for it in range(a.iterations + 1):  # the first is a warm-up
        model.zero_grad(set_to_none=True)
        scores = model(x)
        t = int(scores[0].argmax())
        start = time.perf_counter()
        run(scores, t)
        if it > 0:
            timings.append(time.perf_counter() - start)
    q = statistics.quantiles(timings, n=4) if len(timings) > 1 else [timings[0]] * 3
    print(f"{name} {1000 * q[1]:.2f} {1000 * (q[2] - q[0]):.2f}", flush=True)
