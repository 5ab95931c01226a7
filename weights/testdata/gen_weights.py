#!/usr/bin/python3
"""Fixtures of package weights. Run here: /usr/bin/python3 gen_weights.py

torchvision_shapes.json: for torchvision's resnet18, resnet50 and
    wide_resnet50_2 (built by torchvision 0.14 itself, random weights), the
    state_dict's [name, shape] pairs in order, and the parameter count
    (buffers excluded), which torchvision's weight metadata also states.
tiny_vit.pt: a torch.save'd state dict of a DINO-style ViT with a tiny
    configuration (embed 8, depth 2, 2 heads, patch 4, image 16, MLP ratio 4),
    built from torch.nn modules named as in DINO's vision_transformer.py, so
    the shapes come from torch, not from the Go code under test.
tiny_vit_badshape.pt: the same with blocks.1.mlp.fc1 of hidden width 16
    instead of 32 (a wrong-shape checkpoint).
tiny_vit_teacher.pt: the same weights as a DINO training checkpoint
    ({"teacher": {"backbone." + key}, "student": {"module.backbone." + key}}).
"""
import collections
import json

import torch
import torch.nn as nn
import torchvision

torch.manual_seed(0)

out = {}
for name in ["resnet18", "resnet50", "wide_resnet50_2"]:
    m = getattr(torchvision.models, name)()
    out[name] = {
        "shapes": [[k, list(v.shape)] for k, v in m.state_dict().items()],
        "num_params": sum(p.numel() for p in m.parameters()),
    }
with open("torchvision_shapes.json", "w") as f:
    json.dump(out, f)


class Mlp(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.fc2 = nn.Linear(h, d)


class Attention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d, bias=True)
        self.proj = nn.Linear(d, d)


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=1e-6)
        self.attn = Attention(d)
        self.norm2 = nn.LayerNorm(d, eps=1e-6)
        self.mlp = Mlp(d, h)


class PatchEmbed(nn.Module):
    def __init__(self, d, p):
        super().__init__()
        self.proj = nn.Conv2d(3, d, kernel_size=p, stride=p)


class ViT(nn.Module):
    def __init__(self, d=8, depth=2, p=4, img=16, hidden=(32, 32)):
        super().__init__()
        n = (img // p) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, d))
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, d))
        self.patch_embed = PatchEmbed(d, p)
        self.blocks = nn.ModuleList([Block(d, hidden[i]) for i in range(depth)])
        self.norm = nn.LayerNorm(d, eps=1e-6)


good = ViT().state_dict()
torch.save(good, "tiny_vit.pt")
torch.save(ViT(hidden=(32, 16)).state_dict(), "tiny_vit_badshape.pt")
torch.save(
    {
        "teacher": collections.OrderedDict(("backbone." + k, v) for k, v in good.items()),
        "student": collections.OrderedDict(("module.backbone." + k, v * 2) for k, v in good.items()),
        "epoch": 3,
    },
    "tiny_vit_teacher.pt",
)
print("wrote fixtures")
