#!/usr/bin/python3
"""The Python reference server for bench/run-serve-bench: Grad-CAM of ResNet-18 the way a Python team
serves it — Flask (Debian's python3-flask, threaded), torchvision's transforms, the hooks of
../shared/reference/gradcam_reference.py on layer4 of the eager model (torchvision's ResNet-18 with the
weights of data/models/resnet18.pt: torch.manual_seed(0)), one lock around the model because the hooks
keep their tensors in one place. It answers what glassbox's server answers when asked for the attribution
alone: the prediction and the Grad-CAM (upsampled to 224 x 224) as base64 little-endian float32.

  serve_reference.py PORT [THREADS]
"""
import base64
import io
import sys
import threading

import torch
import torch.nn.functional as F
import torchvision
from flask import Flask, jsonify, request
from PIL import Image
from torchvision import transforms

port = int(sys.argv[1])
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads())
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=1000).eval()
prepare = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                              transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
store = {}
model.layer4.register_forward_hook(lambda m, i, o: store.__setitem__("A", o))
model.layer4.register_full_backward_hook(lambda m, gi, go: store.__setitem__("G", go[0]))
lock = threading.Lock()
app = Flask(__name__)


@app.post("/v1/models/resnet18:explain")
def explain():
    instances = request.get_json()["instances"]
    x = torch.stack([prepare(Image.open(io.BytesIO(base64.b64decode(i["b64"]))).convert("RGB")) for i in instances])
    with lock:
        x.requires_grad_(True)
        logits = model(x)
        targets = logits.argmax(1)
        model.zero_grad()
        logits.gather(1, targets[:, None]).sum().backward()
        A, G = store["A"].detach(), store["G"].detach()
    cam = F.relu((G.mean((2, 3), keepdim=True) * A).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=(224, 224), mode="bilinear", align_corners=False)[:, 0]
    probabilities = torch.softmax(logits.detach().double(), 1)
    return jsonify({
        "predictions": [{"class": int(t), "probability": float(probabilities[i, t])} for i, t in enumerate(targets)],
        "explanations": [{"method": "gradcam", "targets": [{"class": int(t), "attribution": {
            "dtype": "float32", "shape": [1, 224, 224],
            "b64": base64.b64encode(cam[i].contiguous().numpy().astype("<f4").tobytes()).decode()}}]}
            for i, t in enumerate(targets)],
    })


if __name__ == "__main__":
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app.run(host="127.0.0.1", port=port, threaded=True)
