# Builds the architecture bench.Backbone measures in PyTorch with random
# weights (torchvision's ResNets; a DINO/DINOv2 ViT written as DINO's
# vision_transformer.py), runs it in eval mode under torch.no_grad up to the
# deepest requested layer, and prints IMAGES_PER_S.
#
# argv: spec layers size batch images threads
import sys, time, math
import torch, torch.nn as nn
spec, layers, size, batch, images, threads = sys.argv[1].split(), sys.argv[2].split(","), *map(int, sys.argv[3:7])
torch.set_num_threads(threads)
torch.manual_seed(0)
if spec[0] == "resnet":
    import torchvision
    m = getattr(torchvision.models, spec[1])()
    order = ["maxpool", "layer1", "layer2", "layer3", "layer4"]
    last = max(order.index(l) for l in layers)
    def run(x):
        out = {}
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        for i, n in enumerate(order[1:last + 1], 1):
            x = getattr(m, n)(x)
            if n in layers: out[n] = x
        return out
else:
    patch, dim, depth, heads, img, regs = map(int, spec[1:7])
    ls = spec[7] == "true"
    class Attn(nn.Module):
        def __init__(s):
            super().__init__(); s.qkv = nn.Linear(dim, 3 * dim); s.proj = nn.Linear(dim, dim)
        def forward(s, x):
            B, N, C = x.shape
            qkv = s.qkv(x).reshape(B, N, 3, heads, C // heads).permute(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            a = ((q @ k.transpose(-2, -1)) * (C // heads) ** -0.5).softmax(dim=-1)
            return s.proj((a @ v).transpose(1, 2).reshape(B, N, C))
    class Block(nn.Module):
        def __init__(s):
            super().__init__()
            s.norm1 = nn.LayerNorm(dim, eps=1e-6); s.attn = Attn(); s.norm2 = nn.LayerNorm(dim, eps=1e-6)
            s.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
            s.g1 = nn.Parameter(torch.ones(dim)) if ls else None
            s.g2 = nn.Parameter(torch.ones(dim)) if ls else None
        def forward(s, x):
            y = s.attn(s.norm1(x)); x = x + (y * s.g1 if ls else y)
            y = s.mlp(s.norm2(x)); return x + (y * s.g2 if ls else y)
    M = img // patch
    proj = nn.Conv2d(3, dim, patch, patch)
    cls = torch.randn(1, 1, dim); pos = torch.randn(1, 1 + M * M, dim); reg = torch.randn(1, regs, dim)
    blocks = nn.ModuleList([Block() for _ in range(depth)]); norm = nn.LayerNorm(dim, eps=1e-6)
    idx = [depth if l == "norm" else int(l.split(".")[1]) for l in layers]
    last = max(idx)
    def run(x):
        B, _, h, w = x.shape
        t = proj(x).flatten(2).transpose(1, 2)
        t = torch.cat((cls.expand(B, -1, -1), t), dim=1)
        gh, gw = h // patch, w // patch
        if gh * gw != M * M:
            pp = nn.functional.interpolate(pos[:, 1:].reshape(1, M, M, dim).permute(0, 3, 1, 2),
                                           scale_factor=((gh + 0.1) / M, (gw + 0.1) / M), mode="bicubic")
            p = torch.cat((pos[:, :1], pp.permute(0, 2, 3, 1).reshape(1, -1, dim)), dim=1)
        else:
            p = pos
        t = t + p
        if regs: t = torch.cat((t[:, :1], reg.expand(B, -1, -1), t[:, 1:]), dim=1)
        out = {}
        for i, b in enumerate(blocks[:min(last + 1, depth)]):
            t = b(t)
            if i in idx: out["blocks.%d" % i] = t[:, 1 + regs:]
        if last == depth: out["norm"] = norm(t)[:, 1 + regs:]
        return out
    for mod in (proj, blocks, norm): mod.eval()
if spec[0] == "resnet": m.eval()
x = torch.randn(batch, 3, size, size)
with torch.no_grad():
    run(x)
    t0 = time.time(); done = 0
    while done < images:
        k = min(batch, images - done); run(x[:k]); done += k
    print("IMAGES_PER_S %.4f" % (done / (time.time() - t0)))
