#!/usr/bin/python3
"""Golden fixtures for package tensor, computed with PyTorch (torch 1.13, CPU, float32).

Run from this directory:  /usr/bin/python3 gen_tensor_fixtures.py

Writes
  tensor_fixtures.bin   every array, raw little-endian float32, concatenated;
  tensor_fixtures.json  {"cases": {name: {"op": ..., "params": {...},
                         "arrays": {name: {"shape": [...], "offset": n}}}}}
                         where offset counts float32 values into the .bin.

Maps are stored channels-last as the Go package uses them: a PyTorch NCHW
tensor x is saved as x.permute(0, 2, 3, 1). Weights stay in PyTorch order
(conv OIHW, linear [out, in]) because the Go constructors take that order.
Shapes are small and odd on purpose (stride 2, padding, groups, dilation,
batch of 2) so that border and indexing mistakes show.
"""
import json
import math

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_num_threads(1)

cases = {}
blob = []
offset = 0


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


def add(name, op, params, **arrays):
    global offset
    entry = {"op": op, "params": params, "arrays": {}}
    for k, v in arrays.items():
        a = np.ascontiguousarray(v.detach().numpy().astype("<f4"))
        entry["arrays"][k] = {"shape": list(a.shape), "offset": offset}
        blob.append(a.ravel())
        offset += a.size
    cases[name] = entry


def conv(name, cin, cout, h, w, k, stride=1, pad=0, groups=1, dilation=1, bias=True, bn=False, same=False, n=2):
    x = torch.randn(n, cin, h, w)
    wt = torch.randn(cout, cin // groups, k, k) / math.sqrt(cin // groups * k * k)
    b = torch.randn(cout) if bias else None
    params = dict(inC=cin, outC=cout, k=k, stride=stride, pad=pad, groups=groups, dilation=dilation, same=same, bn=bn)
    xin = x
    if same:
        # TensorFlow SAME: out = ceil(in/stride); the odd pixel of padding
        # goes at the bottom/right.
        def amount(size):
            out = -(-size // stride)
            total = max((out - 1) * stride + dilation * (k - 1) + 1 - size, 0)
            return total // 2, total - total // 2
        (t, bt), (l, r) = amount(h), amount(w)
        xin = F.pad(x, (l, r, t, bt))
        pad = 0
    y = F.conv2d(xin, wt, b, stride=stride, padding=pad, dilation=dilation, groups=groups)
    arrays = dict(x=nhwc(x), weight=wt, y=None)
    if b is not None:
        arrays["bias"] = b
    if bn:
        gamma, beta = torch.rand(cout) + 0.5, torch.randn(cout)
        mean, var = torch.randn(cout), torch.rand(cout) + 0.1
        y = F.batch_norm(y, mean, var, gamma, beta, training=False, eps=1e-5)
        arrays.update(gamma=gamma, beta=beta, mean=mean, var=var)
    arrays["y"] = nhwc(y)
    add(name, "conv2d", params, **arrays)


conv("conv3x3_s1_p1", 5, 7, 7, 9, 3, pad=1)
conv("conv3x3_s2_p1", 6, 4, 9, 8, 3, stride=2, pad=1)
conv("conv3x3_s2_p0_nobias", 6, 5, 8, 9, 3, stride=2, bias=False)
conv("conv1x1", 8, 6, 5, 7, 1, bias=False)
conv("conv1x1_s2", 8, 6, 7, 7, 1, stride=2)
conv("conv7x7_s2_p3", 3, 8, 15, 13, 7, stride=2, pad=3)
conv("conv_grouped", 8, 12, 6, 7, 3, pad=1, groups=4)
conv("conv_grouped_s2", 6, 9, 7, 7, 3, stride=2, pad=1, groups=3)
conv("conv_depthwise_s2", 6, 6, 9, 9, 3, stride=2, pad=1, groups=6)
conv("conv_depthwise_s1", 5, 5, 6, 7, 3, pad=1, groups=5)
conv("conv_dilated", 4, 5, 9, 8, 3, pad=2, dilation=2)
conv("conv_bn", 5, 6, 7, 6, 3, pad=1, bn=True)
conv("conv_bn_nobias_1x1", 7, 5, 4, 5, 1, bias=False, bn=True)
conv("conv_depthwise_bn", 6, 6, 7, 7, 3, pad=1, groups=6, bn=True)
conv("conv_same_s2_even", 4, 5, 8, 8, 3, stride=2, same=True)
conv("conv_same_s2_odd", 4, 5, 7, 7, 3, stride=2, same=True)
conv("conv_depthwise_same_s2", 6, 6, 8, 8, 3, stride=2, groups=6, same=True)
conv("conv_patch_embed", 3, 12, 16, 24, 8, stride=8)  # ViT patch embedding (kernel = stride)

# Linear on (T, in) and (N, T, in).
for name, shape in [("linear", (7, 10)), ("linear_batched", (2, 5, 10))]:
    x = torch.randn(*shape)
    wt = torch.randn(6, 10) / math.sqrt(10)
    b = torch.randn(6)
    add(name, "linear", {}, x=x, weight=wt, bias=b, y=F.linear(x, wt, b))

x = torch.randn(2001) * 3
add("gelu", "gelu", {}, x=x, y=F.gelu(x))
x = torch.randn(300) * 4
add("relu", "relu", {}, x=x, y=F.relu(x))
add("relu6", "relu6", {}, x=x, y=F.relu6(x))

x = torch.randn(7, 24) * 2 + 1
wt, b = torch.randn(24), torch.randn(24)
add("layernorm", "layernorm", {"eps": 1e-6}, x=x, weight=wt, bias=b, y=F.layer_norm(x, (24,), wt, b, eps=1e-6))
x = torch.randn(2, 8, 5, 6) * 3 + 2
add("layernorm_all", "layernorm_all", {"eps": 1e-5}, x=nhwc(x), y=nhwc(F.layer_norm(x, x.shape[1:], eps=1e-5)))

x = torch.randn(5, 13) * 5
add("softmax", "softmax", {}, x=x, y=F.softmax(x, dim=-1))

for name, shape, k, s, p in [("maxpool_k3s2p1", (2, 4, 9, 10), 3, 2, 1), ("maxpool_k2s2", (2, 3, 7, 7), 2, 2, 0)]:
    x = torch.randn(*shape)
    add(name, "maxpool2d", {"k": k, "stride": s, "pad": p}, x=nhwc(x), y=nhwc(F.max_pool2d(x, k, s, p)))
for name, shape, k, s, p in [("avgpool_k3s2p1", (2, 4, 9, 10), 3, 2, 1), ("avgpool_k2s2", (2, 3, 7, 7), 2, 2, 0),
                             ("avgpool_k3s1p1", (1, 2, 5, 4), 3, 1, 1)]:
    x = torch.randn(*shape)
    add(name, "avgpool2d", {"k": k, "stride": s, "pad": p}, x=nhwc(x), y=nhwc(F.avg_pool2d(x, k, s, p)))
for name, shape, out in [("adaptive2d_down", (2, 3, 7, 9), (3, 4)), ("adaptive2d_up", (2, 2, 3, 3), (5, 4))]:
    x = torch.randn(*shape)
    add(name, "adaptive_avg_pool2d", {"oh": out[0], "ow": out[1]}, x=nhwc(x), y=nhwc(F.adaptive_avg_pool2d(x, out)))
for name, n, m in [("adaptive1d_down", 23, 8), ("adaptive1d_up", 23, 30), ("adaptive1d_exact", 36, 12), ("adaptive1d_patchcore", 45, 16)]:
    x = torch.randn(4, n)
    # adaptive_avg_pool1d wants (N, C, L): pool each row as a length-n signal.
    add(name, "adaptive_avg_pool1d", {"m": m}, x=x, y=F.adaptive_avg_pool1d(x.unsqueeze(1), m).squeeze(1))
x = torch.randn(2, 7, 5, 6)
add("global_avg_pool", "global_avg_pool", {}, x=nhwc(x), y=F.adaptive_avg_pool2d(x, 1).flatten(1))

for mode in ["bilinear", "bicubic"]:
    for name, shape, size in [("up", (2, 3, 5, 7), (9, 11)), ("down", (2, 3, 8, 9), (3, 4)),
                              ("mixed", (1, 4, 8, 5), (5, 9)), ("same", (1, 2, 4, 4), (4, 4)),
                              ("up2", (1, 3, 14, 14), (28, 28))]:
        x = torch.randn(*shape)
        y = F.interpolate(x, size=size, mode=mode, align_corners=False)
        add(f"{mode}_{name}", "resize", {"mode": mode, "oh": size[0], "ow": size[1]}, x=nhwc(x), y=nhwc(y))
# DINO's interpolate_pos_encoding: scale_factor = (w0 + 0.1)/sqrt(N) with the
# scale (not the output size) driving the source coordinates.
for name, shape, sf in [("bicubic_scale_up", (1, 6, 5, 5), (7.1 / 5, 6.1 / 5)), ("bicubic_scale_down", (1, 4, 7, 7), (4.1 / 7, 5.1 / 7)),
                        ("bilinear_scale_up", (1, 3, 4, 6), (1.525, 2.0))]:
    mode = name.split("_")[0]
    x = torch.randn(*shape)
    y = F.interpolate(x, scale_factor=sf, mode=mode, align_corners=False)
    add(name, "resize_scale", {"mode": mode, "sh": sf[0], "sw": sf[1]}, x=nhwc(x), y=nhwc(y))

# Attention as timm's Attention.forward, explicit torch ops.
for name, n, t, c, heads in [("attention", 1, 9, 12, 3), ("attention_batched", 2, 5, 8, 2), ("attention_long", 1, 37, 16, 2)]:
    qkv = torch.randn(n, t, 3 * c)
    hd = c // heads
    q, k, v = qkv.reshape(n, t, 3, heads, hd).permute(2, 0, 3, 1, 4)
    attn = (q @ k.transpose(-2, -1)) * hd ** -0.5
    attn = attn.softmax(dim=-1)
    y = (attn @ v).transpose(1, 2).reshape(n, t, c)
    if n == 1:
        qkv, y = qkv[0], y[0]
    add(name, "attention", {"heads": heads}, qkv=qkv, y=y)

a, b = torch.randn(3, 4, 5), torch.randn(3, 5, 6)
add("bmm", "bmm", {}, a=a, b=b, y=torch.bmm(a, b))

with open("tensor_fixtures.bin", "wb") as f:
    f.write(np.concatenate(blob).astype("<f4").tobytes())
with open("tensor_fixtures.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1, sort_keys=True)
print(f"{len(cases)} cases, {offset} floats ({offset * 4} bytes)")
