#!/usr/bin/python3
"""Golden fixtures for package patchfeat: PatchCore's patch aggregation done
literally with torch, mirroring patchcore-inspection's PatchCore._embed,
PatchMaker.patchify, common.MeanMapper/Preprocessing and common.Aggregator,
plus the seed's per-image LayerNorm([C, H, W]) (no affine, eps 1e-5).

Run from this directory with Debian's /usr/bin/python3 (torch 1.13):
    /usr/bin/python3 gen_patchfeat.py
It writes cases.json and, per case, <name>.f32: raw little-endian float32,
the layer maps one after the other, each channels-last (H, W, C) as the Go
package takes them, followed by Z (M x D, row-major). Shapes are in
cases.json.
"""
import json

import numpy as np
import torch
import torch.nn.functional as F


def patchify(x, patchsize):
    # PatchMaker.patchify with stride 1: (B, C, H, W) -> (B, h*w, C, p, p).
    padding = int((patchsize - 1) / 2)
    unfolder = torch.nn.Unfold(kernel_size=patchsize, stride=1, padding=padding, dilation=1)
    unfolded = unfolder(x)
    shape = [int((s + 2 * padding - (patchsize - 1) - 1) / 1 + 1) for s in x.shape[-2:]]
    unfolded = unfolded.reshape(*x.shape[:2], patchsize, patchsize, -1)
    return unfolded.permute(0, 4, 1, 2, 3), shape


def embed(maps, patchsize, pretrain, target, layernorm):
    feats = []
    for m in maps:
        if layernorm:
            m = F.layer_norm(m, m.shape[1:], eps=1e-5)  # the seed's LayerNorm([C, H, W])
        feats.append(m)
    feats = [patchify(x, patchsize) for x in feats]
    shapes = [f[1] for f in feats]
    feats = [f[0] for f in feats]
    ref = shapes[0]
    for i in range(1, len(feats)):
        f = feats[i]
        pd = shapes[i]
        f = f.reshape(f.shape[0], pd[0], pd[1], *f.shape[2:])
        f = f.permute(0, -3, -2, -1, 1, 2)
        base = f.shape
        f = f.reshape(-1, *f.shape[-2:])
        f = F.interpolate(f.unsqueeze(1), size=(ref[0], ref[1]), mode="bilinear", align_corners=False)
        f = f.squeeze(1)
        f = f.reshape(*base[:-2], ref[0], ref[1])
        f = f.permute(0, -2, -1, 1, 2, 3)
        f = f.reshape(len(f), -1, *f.shape[-3:])
        feats[i] = f
    feats = [x.reshape(-1, *x.shape[-3:]) for x in feats]
    # Preprocessing: one MeanMapper per layer, stacked on dim 1.
    pooled = []
    for f in feats:
        f = f.reshape(len(f), 1, -1)
        pooled.append(F.adaptive_avg_pool1d(f, pretrain).squeeze(1))
    f = torch.stack(pooled, dim=1)
    # Aggregator.
    f = f.reshape(len(f), 1, -1)
    f = F.adaptive_avg_pool1d(f, target)
    return f.reshape(len(f), -1)


# (name, layer shapes (C, H, W), patchsize, pretrain, target, layernorm)
CASES = [
    ("even_ln", [(8, 6, 6), (12, 3, 3)], 3, 24, 48, True),  # target = L*pretrain: identity aggregate
    ("even", [(8, 6, 6), (12, 3, 3)], 3, 24, 48, False),
    ("uneven", [(8, 6, 6), (12, 3, 3)], 3, 10, 7, False),  # 72 -> 10, 108 -> 10, 20 -> 7
    ("uneven_ln", [(8, 6, 6), (12, 3, 3)], 3, 17, 13, True),
    ("upsample", [(8, 6, 6), (12, 3, 3)], 3, 80, 200, False),  # pretrain > 72, target > 160
    ("rect3", [(5, 5, 7), (6, 3, 4), (4, 7, 9)], 3, 11, 19, True),  # non-square, a larger later layer
    ("p5", [(4, 6, 5), (6, 4, 3)], 5, 30, 40, False),
    ("p1", [(6, 4, 4), (10, 2, 2)], 1, 4, 8, False),
    ("single", [(9, 4, 5)], 3, 16, 16, True),
]


def main():
    torch.manual_seed(0)
    meta = []
    for name, shapes, p, pre, tgt, ln in CASES:
        maps = [torch.randn(1, c, h, w) * 2 + 0.5 for (c, h, w) in shapes]
        z = embed(maps, p, pre, tgt, ln)
        with open(name + ".f32", "wb") as fh:
            for m in maps:
                fh.write(m[0].permute(1, 2, 0).contiguous().numpy().astype("<f4").tobytes())
            fh.write(z.numpy().astype("<f4").tobytes())
        meta.append(dict(name=name, layers=[list(s) for s in shapes], patchsize=p,
                         pretrain=pre, target=tgt, layernorm=ln, z=list(z.shape)))
    with open("cases.json", "w") as fh:
        json.dump(meta, fh, indent=1)


if __name__ == "__main__":
    main()
