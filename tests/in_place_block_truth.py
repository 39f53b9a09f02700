#!/usr/bin/python3
"""Truth for layer attributions on a block whose layers' outputs are overwritten in place afterwards.

  in_place_block_truth.py OUT_DIR

The model: conv -> BatchNorm -> ReLU(inplace=True) (so "bn"'s output is overwritten by the ReLU), then
conv2 -> BatchNorm "bn2" -> `out += identity` -> ReLU(inplace=True) (so "bn2"'s output is overwritten
twice), global average pooling, Linear. Saved scripted as OUT_DIR/block.pt.
The truth is computed without hooks and without in-place ops: each layer's activation A is recomputed
as a leaf tensor and the rest of the network is written out functionally from it, so G = dS/dA is the
gradient with respect to the value the layer produced. From A and G, per layer:
  gxa       A * G
  gradcam   relu(sum_k mean_hw(G_k) A_k)
  gradcampp pytorch-grad-cam's GradCAMPlusPlus: a = g^2 / (2 g^2 + sum_hw(A) g^3 + 1e-6), 0 where g == 0;
            w_k = sum_hw(a relu(g)); relu(sum_k w_k A_k)
  scorecam  pytorch-grad-cam's ScoreCAM: masks = UpsamplingBilinear2d (align_corners=True) of each A_k,
            min-max scaled with (max - min + 1e-8); w = softmax_k(score of x * mask_k); relu(sum_k w_k A_k)
  layer_ig  Captum's LayerIntegratedGradients from a zero input: the activation moves from A(0) to A(x),
            the head runs on each point, gradients integrated with Gauss-Legendre's 50 points on [0, 1]
            (numpy's leggauss, as Captum does), times A(x) - A(0); "<layer>.score_gap" is F(x) - F(0)
Written with torch.save as OUT_DIR/truth.pt: {"input", "targets", "<layer>.<what>"}.
"""
import sys
import numpy
import torch
import torch.nn as nn
import torch.nn.functional as F

out_dir = sys.argv[1]
torch.manual_seed(5)


class Block(nn.Module):
    def __init__(self, classes=5):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.relu2 = nn.ReLU(inplace=True)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        identity = self.relu(self.bn(self.conv(x)))
        out = self.bn2(self.conv2(identity))
        out += identity
        out = self.relu2(out)
        return self.fc(out.mean((2, 3)))


model = Block()
with torch.no_grad():  # running statistics that make BatchNorm more than an identity
    for bn in (model.bn, model.bn2):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
model.eval()
torch.jit.script(model).save(f"{out_dir}/block.pt")

x = torch.randn(3, 3, 12, 12)
with torch.no_grad():
    targets = model(x).argmax(1)


def head_from_bn(a1):
    identity = F.relu(a1)
    return head_from_bn2(model.bn2(model.conv2(identity)), identity)


def head_from_bn2(a2, identity):
    return model.fc(F.relu(a2 + identity).mean((2, 3)))


def score(logits):
    return logits.gather(1, targets[:, None]).sum()


truth = {"input": x, "targets": targets}
with torch.no_grad():
    a1 = model.bn(model.conv(x))
    a2 = model.bn2(model.conv2(F.relu(a1)))
layers = {
    "bn": (a1, lambda a: head_from_bn(a)),
    "bn2": (a2, lambda a: head_from_bn2(a, F.relu(a1))),
}
for name, (value, head) in layers.items():
    A = value.clone().requires_grad_()
    (G,) = torch.autograd.grad(score(head(A)), A)
    A = A.detach()
    truth[f"{name}.gxa"] = A * G
    truth[f"{name}.gradcam"] = torch.relu((G.mean((2, 3), keepdim=True) * A).sum(1))
    g2, g3 = G ** 2, G ** 3
    aij = g2 / (2 * g2 + A.sum((2, 3), keepdim=True) * g3 + 1e-6)
    aij = torch.where(G != 0, aij, torch.zeros_like(aij))
    w = (torch.relu(G) * aij).sum((2, 3), keepdim=True)
    truth[f"{name}.gradcampp"] = torch.relu((w * A).sum(1))
    with torch.no_grad():
        up = nn.UpsamplingBilinear2d(size=x.shape[-2:])(A)
        lo = up.flatten(2).min(2)[0][:, :, None, None]
        hi = up.flatten(2).max(2)[0][:, :, None, None]
        masks = (up - lo) / (hi - lo + 1e-8)
        scores = torch.stack([model(x[b:b + 1] * masks[b][:, None])[:, targets[b]] for b in range(x.shape[0])])
        w = torch.softmax(scores, 1)[:, :, None, None]
        truth[f"{name}.scorecam"] = torch.relu((w * A).sum(1))
# Layer Integrated Gradients, Captum's definition, from the zero input.
zero = torch.zeros_like(x)
with torch.no_grad():
    b1 = model.bn(model.conv(zero))
    b2 = model.bn2(model.conv2(F.relu(b1)))
nodes, node_weights = numpy.polynomial.legendre.leggauss(50)
alphas = [0.5 * (1 + float(n)) for n in nodes]
weights = [0.5 * float(w) for w in node_weights]
for name, at_x, at_zero, head in (("bn", a1, b1, lambda a: head_from_bn(a)),
                                  ("bn2", a2, b2, lambda a: head_from_bn2(a, F.relu(a1)))):
    total = torch.zeros_like(at_x, dtype=torch.float64)
    for alpha, weight in zip(alphas, weights):
        point = (at_zero + alpha * (at_x - at_zero)).clone().requires_grad_()
        (g,) = torch.autograd.grad(score(head(point)), point)
        total += weight * g.double()
    truth[f"{name}.layer_ig"] = ((at_x - at_zero).double() * total).float()
    with torch.no_grad():
        truth[f"{name}.score_gap"] = (head(at_x) - head(at_zero)).gather(1, targets[:, None]).squeeze(1)
torch.save(truth, f"{out_dir}/truth.pt")
