#!/usr/bin/python3
"""Reference outputs of MobileNet V1/V2 for mobilenet_test.go, from PyTorch.

The models are written here as plain torch.nn definitions of the published
architectures (MobileNet V1: Howard et al. 2017; V2: Sandler et al. 2018, the
layout of torchvision's mobilenet_v2 with batch norm folded into conv bias),
NOT by walking the TFLite graph as the Go code does. Weights are the SAME
dequantised weights: read from the TFLite files in ../shared/weights with a
minimal struct-based FlatBuffer parse, real = float32(float64(scale)*(q - zp)),
assigned to the torch convs in forward order with shape checks. TensorFlow
"SAME" padding (the odd pixel at the bottom/right) is applied with F.pad.

Inputs (no resampling, so Go builds them bit-identically): centre crops of the
photos in ../shared/data/photos, decoded by PIL, x = (p - 128)/128:
  "cat224"   cat.bmp, 224x224 crop            (all taps, classifier included)
  "hopper224" grace_hopper.bmp, 224x224 crop  (all taps)
  "hopper200x232" grace_hopper.bmp, 200 high x 232 wide crop (feature taps only;
             odd intermediate sizes exercise the asymmetric SAME padding)
A crop of size (h, w) starts at ((H-h)//2, (W-w)//2).

Output: testdata/mobilenet_ref.json, per model, image and tap:
  shape (H', W', C) channels-last, "mean": the per-channel mean over H'xW'
  (float64 accumulation), "slice": the map's channels 0 and 1 at every
  position, row-major (h, w, c), and for 1-D taps (logits, softmax) "values".

Run from the package directory: /usr/bin/python3 testdata/gen_mobilenet_ref.py
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared"))
V1 = "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"
V2 = "mobilenet_v2_1.0_224_quant.tflite"

torch.set_num_threads(2)


# ---- minimal TFLite reading: dequantised filters of CONV_2D / DEPTHWISE in op order

class FB:
    def __init__(self, b): self.b = b
    def u16(self, p): return struct.unpack_from("<H", self.b, p)[0]
    def i32(self, p): return struct.unpack_from("<i", self.b, p)[0]
    def u32(self, p): return struct.unpack_from("<I", self.b, p)[0]

    def field(self, t, fid):
        vt = t - self.i32(t)
        if 4 + 2 * fid + 2 > self.u16(vt):
            return None
        off = self.u16(vt + 4 + 2 * fid)
        return t + off if off else None

    def scalar(self, t, fid, fmt, default):
        p = self.field(t, fid)
        return default if p is None else struct.unpack_from("<" + fmt, self.b, p)[0]

    def deref(self, t, fid):
        p = self.field(t, fid)
        return None if p is None else p + self.u32(p)

    def vec(self, t, fid):
        p = self.deref(t, fid)
        return (0, 0) if p is None else (p + 4, self.u32(p))

    def scalars(self, t, fid, fmt):
        s, n = self.vec(t, fid)
        k = struct.calcsize("<" + fmt)
        return [struct.unpack_from("<" + fmt, self.b, s + i * k)[0] for i in range(n)]

    def tables(self, t, fid):
        s, n = self.vec(t, fid)
        return [s + 4 * i + self.u32(s + 4 * i) for i in range(n)]


DTYPES = {0: "<f4", 2: "<i4", 3: "u1", 9: "i1"}


def tflite_convs(path):
    """[(kind, weight OIHW float32, bias float32)] for CONV_2D (3) and DEPTHWISE_CONV_2D (4)."""
    fb = FB(open(path, "rb").read())
    m = fb.u32(0)
    codes = [max(fb.scalar(c, 0, "b", 0), fb.scalar(c, 3, "i", 0)) for c in fb.tables(m, 1)]
    bufs = fb.tables(m, 4)
    sg = fb.tables(m, 2)[0]
    tensors = fb.tables(sg, 0)

    def value(ti):
        t = tensors[ti]
        shape = fb.scalars(t, 0, "i")
        s, n = fb.vec(bufs[fb.scalar(t, 2, "I", 0)], 0)
        raw = np.frombuffer(fb.b[s:s + n], dtype=DTYPES[fb.scalar(t, 1, "b", 0)]).reshape(shape)
        q = fb.deref(t, 4)
        scale, zp = fb.scalars(q, 2, "f"), fb.scalars(q, 3, "q")
        assert len(scale) == 1, "the shared files are quantised per tensor"
        return (np.float64(np.float32(scale[0])) * (raw.astype(np.int64) - zp[0])).astype(np.float32)

    out = []
    for op in fb.tables(sg, 3):
        code = codes[fb.scalar(op, 0, "I", 0)]
        if code not in (3, 4):
            continue
        ins = fb.scalars(op, 1, "i")
        w, b = value(ins[1]), value(ins[2])
        w = w.transpose(0, 3, 1, 2) if code == 3 else w.transpose(3, 0, 1, 2)  # OHWI / 1HWC -> OIHW
        out.append(("conv" if code == 3 else "dw", np.ascontiguousarray(w), b))
    return out


# ---- the architectures

class ConvTF(nn.Conv2d):
    """Conv2d with TensorFlow SAME padding: out = ceil(in/stride), extra pixel bottom/right."""

    def forward(self, x):
        k, s = self.kernel_size[0], self.stride[0]
        pads = []
        for size in (x.shape[3], x.shape[2]):  # F.pad order: W then H
            out = -(-size // s)
            total = max((out - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, 1, self.groups)


def conv(cin, cout, k=1, s=1, groups=1):
    return ConvTF(cin, cout, k, s, groups=groups, bias=True)


class MobileNetV1(nn.Module):
    # (out channels, stride) of the 13 depthwise-separable blocks.
    CFG = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]

    def __init__(self):
        super().__init__()
        self.conv0 = conv(3, 32, 3, 2)
        layers, cin = [], 32
        for cout, s in self.CFG:
            layers += [conv(cin, cin, 3, s, groups=cin), conv(cin, cout)]
            cin = cout
        self.blocks = nn.ModuleList(layers)

    def forward(self, x):
        taps = {}
        x = F.relu6(self.conv0(x))
        for i, layer in enumerate(self.blocks):
            x = F.relu6(layer(x))
            # Pointwise conv of block i//2 + 1 (Conv2d_<n>_pointwise in TF).
            if i == 2 * 5 - 1:
                taps["stride8"] = x  # Conv2d_5_pointwise, 28x28x256 at 224
            if i == 2 * 11 - 1:
                taps["stride16"] = x  # Conv2d_11_pointwise, 14x14x512
        taps["stride32"] = x  # Conv2d_13_pointwise, 7x7x1024
        if x.shape[2] == 7 and x.shape[3] == 7:
            taps["output"] = F.avg_pool2d(x, 7, 2)  # AVERAGE_POOL_2D 7x7 VALID stride 2
        return taps


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        self.expand = conv(cin, hidden) if t != 1 else None
        self.depthwise = conv(hidden, hidden, 3, stride, groups=hidden)
        self.project = conv(hidden, cout)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = F.relu6(self.expand(x)) if self.expand is not None else x
        self.expand_out = h
        y = self.project(F.relu6(self.depthwise(h)))  # linear bottleneck
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    CFG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self):
        super().__init__()
        self.stem = conv(3, 32, 3, 2)
        blocks, cin = [], 32
        for t, c, n, s in self.CFG:
            for i in range(n):
                blocks.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        self.blocks = nn.ModuleList(blocks)
        self.conv_1 = conv(cin, 1280)
        self.logits = conv(1280, 1001)

    def forward(self, x):
        taps = {}
        x = F.relu6(self.stem(x))
        for i, b in enumerate(self.blocks):
            x = b(x)
            if i == 5:
                taps["expanded_conv_5/add"] = x
            if i == 6:
                taps["stride8"] = b.expand_out  # expand of the block that goes to stride 16
            if i == 13:
                taps["stride16"] = b.expand_out
        x = F.relu6(self.conv_1(x))
        taps["stride32"] = x
        if x.shape[2] == 7 and x.shape[3] == 7:  # the classifier needs a 224 input
            x = F.avg_pool2d(x, 7, 1)
            logits = self.logits(x)
            taps["Logits/Conv2d_1c_1x1"] = logits
            taps["output"] = torch.softmax(logits.reshape(1, -1), dim=1)
        return taps


def load(model, convs):
    mods = [m for m in model.modules() if isinstance(m, ConvTF)]
    assert len(mods) == len(convs), (len(mods), len(convs))
    for m, (kind, w, b) in zip(mods, convs):
        assert (m.groups > 1) == (kind == "dw"), kind
        assert tuple(m.weight.shape) == w.shape, (m.weight.shape, w.shape)
        m.weight.data = torch.from_numpy(w)
        m.bias.data = torch.from_numpy(b)
    return model.eval()


def crop(name, h, w):
    a = np.array(Image.open(os.path.join(SHARED, "data", "photos", name)).convert("RGB"))
    top, left = (a.shape[0] - h) // 2, (a.shape[1] - w) // 2
    a = a[top:top + h, left:left + w].astype(np.float32)
    return (a - 128) / 128  # (H, W, 3)


def f9(v):
    # 9 significant digits identify a float32 exactly and keep the file small.
    return float("%.9g" % v)


def record(t):
    a = t.detach().numpy()[0]
    if a.ndim == 1:
        return {"shape": [a.shape[0]], "values": [f9(v) for v in a]}
    a = a.transpose(1, 2, 0)  # CHW -> HWC
    mean = a.astype(np.float64).reshape(-1, a.shape[2]).mean(axis=0)
    r = {"shape": list(a.shape), "mean": [f9(v) for v in mean]}
    if a.shape[0] > 1:  # (1, 1, C) maps: the mean is the map
        r["slice"] = [f9(v) for v in a[:, :, :2].reshape(-1)]
    return r


def main():
    images = {"cat224": crop("cat.bmp", 224, 224), "hopper224": crop("grace_hopper.bmp", 224, 224),
              "hopper200x232": crop("grace_hopper.bmp", 200, 232)}
    out = {}
    for key, fname, model in [("mobilenet_v1", V1, MobileNetV1()), ("mobilenet_v2", V2, MobileNetV2())]:
        load(model, tflite_convs(os.path.join(SHARED, "weights", fname)))
        out[key] = {}
        for iname, img in images.items():
            with torch.no_grad():
                taps = model(torch.from_numpy(img).permute(2, 0, 1)[None].contiguous())
            out[key][iname] = {k: record(v) for k, v in taps.items()}
            if "output" in taps and key == "mobilenet_v2":
                top = torch.topk(taps["output"][0], 5)
                print(key, iname, "top5", top.indices.tolist(), [round(v, 4) for v in top.values.tolist()])
    path = os.path.join(HERE, "mobilenet_ref.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
