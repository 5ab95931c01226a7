#!/usr/bin/python3
"""Fixtures for the Go ViT (package vit): reduced-size DINO / DINOv2 vision
transformers with random weights and their per-block outputs on two images.

Run from this directory with Debian's python3-torch:

    /usr/bin/python3 gen_vit.py            # small fixtures committed for go test
    /usr/bin/python3 gen_vit.py --full DIR # full-size ViT-B/8 at 224 into DIR
                                           # (used by the opt-in test, see vit_test.go)

The model below is a transcription of facebookresearch/dino
vision_transformer.py (VisionTransformer, Block, Attention, Mlp, PatchEmbed,
interpolate_pos_encoding) with the DINOv2 additions of
facebookresearch/dinov2 dinov2/models/vision_transformer.py and
dinov2/layers/block.py switched on by arguments: LayerScale (ls1.gamma,
ls2.gamma), mask_token, register tokens inserted after the CLS token once the
position embeddings are added, and interpolate_offset / interpolate_antialias.
Parameter names are the checkpoints' keys.

Files written, per model <name>:
  <name>.pth              torch.save(model.state_dict()); dino16_64x32 uses
                          dino16.pth and dinov2reg_aa_42x70 dinov2reg_42x70.pth
  <name>_input.npy        float32 (2, 3, H, W) input
  <name>_blocks.<i>.npy   float32 (2, C, H/p, W/p): output of block i, CLS and
                          register tokens dropped, tokens reshaped row-major
  <name>_norm.npy         same for the final LayerNorm
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()  # exact (erf) GELU, as in DINO
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x)


class LayerScale(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * self.gamma


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, layer_scale):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.ls1 = LayerScale(dim) if layer_scale else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.ls2 = LayerScale(dim) if layer_scale else nn.Identity()

    def forward(self, x):
        x = x + self.ls1(self.attn(self.norm1(x)))
        x = x + self.ls2(self.mlp(self.norm2(x)))
        return x


class PatchEmbed(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, img_size, patch, dim, depth, heads, mlp_ratio=4.0, dinov2=False,
                 registers=0, interpolate_offset=0.1, interpolate_antialias=False):
        super().__init__()
        self.patch = patch
        self.registers = registers
        self.interpolate_offset = interpolate_offset
        self.interpolate_antialias = interpolate_antialias
        self.patch_embed = PatchEmbed(patch, dim)
        n = (img_size // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, dim) * 0.5)
        if registers:
            self.register_tokens = nn.Parameter(torch.randn(1, registers, dim) * 0.5)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio, dinov2) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        if dinov2:
            self.mask_token = nn.Parameter(torch.zeros(1, dim))

    def interpolate_pos_encoding(self, x, h, w):
        # DINO's (and DINOv2's) interpolate_pos_encoding; (h, w) are the
        # input's dims 2 and 3 (DINO calls them w, h).
        npatch = x.shape[1] - 1
        N = self.pos_embed.shape[1] - 1
        if npatch == N and w == h:
            return self.pos_embed
        class_pos_embed = self.pos_embed[:, 0]
        patch_pos_embed = self.pos_embed[:, 1:]
        dim = x.shape[-1]
        h0, w0 = h // self.patch, w // self.patch
        M = int(math.sqrt(N))
        if self.interpolate_offset:
            kw = dict(scale_factor=(float(h0 + self.interpolate_offset) / M,
                                    float(w0 + self.interpolate_offset) / M))
        else:
            kw = dict(size=(h0, w0))
        patch_pos_embed = F.interpolate(
            patch_pos_embed.reshape(1, M, M, dim).permute(0, 3, 1, 2),
            mode="bicubic", antialias=self.interpolate_antialias, **kw)
        assert (h0, w0) == patch_pos_embed.shape[-2:]
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).reshape(1, -1, dim)
        return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1)

    def prepare_tokens(self, x):
        B, _, h, w = x.shape
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1)
        x = x + self.interpolate_pos_encoding(x, h, w)
        if self.registers:
            x = torch.cat((x[:, :1], self.register_tokens.expand(B, -1, -1), x[:, 1:]), dim=1)
        return x

    def taps(self, x):
        """Every block's output and the final norm, as (B, C, H/p, W/p) maps."""
        B, _, h, w = x.shape
        gh, gw = h // self.patch, w // self.patch
        x = self.prepare_tokens(x)
        skip = 1 + self.registers

        def grid(t):
            return t[:, skip:].reshape(B, gh, gw, -1).permute(0, 3, 1, 2)

        out = {}
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            out["blocks.%d" % i] = grid(x)
        out["norm"] = grid(self.norm(x))
        return out


def randomise(model, gen):
    # LayerNorm affine and layer-scale gammas away from their 1/0 init, so a
    # Go model that ignored them would fail.
    for name, p in model.named_parameters():
        if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name == "norm.weight" \
                or name.endswith(".gamma"):
            p.data = torch.rand(p.shape, generator=gen) + 0.5
        elif name.endswith("norm1.bias") or name.endswith("norm2.bias") or name == "norm.bias":
            p.data = torch.randn(p.shape, generator=gen) * 0.1


def write(model, name, x, outdir, save=True):
    model.eval()
    if save:
        torch.save(model.state_dict(), os.path.join(outdir, name + ".pth"))
    np.save(os.path.join(outdir, name + "_input.npy"), x.numpy().astype(np.float32))
    with torch.no_grad():
        for layer, y in model.taps(x).items():
            np.save(os.path.join(outdir, "%s_%s.npy" % (name, layer)),
                    np.ascontiguousarray(y.numpy()).astype(np.float32))


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(2)
    if len(sys.argv) == 3 and sys.argv[1] == "--full":
        m = VisionTransformer(224, 8, 768, 12, 12)
        randomise(m, gen)
        write(m, "vit_base8", torch.randn(2, 3, 224, 224, generator=gen), sys.argv[2])
        return
    here = os.path.dirname(os.path.abspath(__file__))
    # DINO ViT, patch 16, checkpoint grid 3x3 (48 px); run at 48 px (no
    # interpolation) ...
    m = VisionTransformer(48, 16, 48, 2, 3)
    randomise(m, gen)
    write(m, "dino16", torch.randn(2, 3, 48, 48, generator=gen), here)
    # ... and at 64x32 px: grid 4x2, interpolated with DINO's +0.1 offset.
    write(m, "dino16_64x32", torch.randn(2, 3, 64, 32, generator=gen), here, save=False)
    # DINO ViT, patch 8, checkpoint grid 4x4 (32 px), run at 40x48 px.
    m = VisionTransformer(32, 8, 48, 2, 3)
    randomise(m, gen)
    write(m, "dino8_40x48", torch.randn(2, 3, 40, 48, generator=gen), here)
    # DINOv2 (layer scale, mask_token, 2 registers), patch 14, checkpoint
    # grid 4x4 (56 px), run at 42x70 px with the offset 0.1 interpolation
    # of the released dinov2_vit*14 models.
    m = VisionTransformer(56, 14, 48, 2, 3, dinov2=True, registers=2)
    randomise(m, gen)
    write(m, "dinov2reg_42x70", torch.randn(2, 3, 42, 70, generator=gen), here)
    # The released *_reg models interpolate with size= and antialias=True.
    m.interpolate_offset, m.interpolate_antialias = 0.0, True
    write(m, "dinov2reg_aa_42x70", torch.randn(2, 3, 42, 70, generator=gen), here, save=False)


if __name__ == "__main__":
    main()
