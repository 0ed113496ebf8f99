#!/usr/bin/python3
"""Writes test/fixtures/predict/pil_resize.json: PIL's bicubic resizes and timm's ConvNeXt eval
transform on small seeded images, for the preprocessing tests (which need no Python).

    /usr/bin/python3 packages/convnext/scripts/gen_predict_fixtures.py

The eval transform is timm's (transforms_factory.transforms_imagenet_eval) written out with
torchvision: Resize(floor(size / crop_pct), BICUBIC) on the shorter side, CenterCrop(size),
ToTensor, Normalize(ImageNet mean/std).
"""
import json
import math
import os

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "predict", "pil_resize.json")

rng = np.random.default_rng(0)
src = rng.integers(0, 256, size=(17, 23, 3), dtype=np.uint8)  # H, W, C
img = Image.fromarray(src, "RGB")
resizes = []
for w, h in [(11, 8), (40, 30), (7, 29), (23, 5), (3, 3)]:
    out = np.asarray(img.resize((w, h), Image.BICUBIC))
    resizes.append({"width": w, "height": h, "data": out.reshape(-1).tolist()})

src2 = rng.integers(0, 256, size=(37, 50, 3), dtype=np.uint8)
size, crop_pct = 32, 0.875
mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
tf = T.Compose([T.Resize(math.floor(size / crop_pct), interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size), T.ToTensor(), T.Normalize(mean, std)])
x = tf(Image.fromarray(src2, "RGB"))
grey = T.Compose([T.Grayscale(1), T.Resize(size, interpolation=T.InterpolationMode.BICUBIC), T.CenterCrop(size), T.ToTensor(), T.Normalize((0.286,), (0.353,))])(Image.fromarray(src2, "RGB"))

with open(OUT, "w") as f:
    json.dump({
        "pil": PIL.__version__, "torchvision": torchvision.__version__,
        "source": {"width": 23, "height": 17, "data": src.reshape(-1).tolist()},
        "resizes": resizes,
        "eval_source": {"width": 50, "height": 37, "data": src2.reshape(-1).tolist()},
        "eval": {"size": size, "crop_pct": crop_pct, "mean": mean, "std": std, "output": [round(v, 6) for v in x.reshape(-1).tolist()]},
        "eval_grey": {"size": size, "crop_pct": 1.0, "mean": [0.286], "std": [0.353], "output": [round(v, 6) for v in grey.reshape(-1).tolist()]},
    }, f)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
