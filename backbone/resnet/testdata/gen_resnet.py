#!/usr/bin/python3
"""Fixtures for the Go ResNet (package resnet): reduced-size torchvision ResNets
with random weights, and their layer outputs on two random images.

Run from this directory with Debian's python3-torch / torchvision:

    /usr/bin/python3 gen_resnet.py            # small fixtures committed for go test
    /usr/bin/python3 gen_resnet.py --full DIR # full-size wide_resnet50_2 at 224 into DIR
                                              # (used by the opt-in test, see resnet_test.go)

The models are built from torchvision's own classes (torchvision.models.resnet
ResNet._make_layer, Bottleneck, BasicBlock), so the state_dict keys are
torchvision's: conv1, bn1, layer1.0.conv1, ..., layerN.0.downsample.0/1, fc.
Only the stage widths are reduced (planes 4, 8, 16, 32 instead of 64..512)
so the fixtures stay small; "wide" is torchvision's width_per_group=128.

Every BatchNorm gets random weight, bias, running_mean and running_var, so a
Go implementation that forgot eval-mode BN folding (or folded it wrongly)
fails.

Files written, per model <name>:
  <name>.pth          torch.save(model.state_dict())  (torch zip format)
  <name>_input.npy    float32 (2, 3, H, W) input, already "normalised"
  <name>_<layer>.npy  float32 (2, C, h, w) output of model.<layer>
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

LAYERS = ["layer1", "layer2", "layer3", "layer4"]


class SmallResNet(ResNet):
    """torchvision's ResNet with the stage widths divided by 64/planes[0].

    Mirrors ResNet.__init__ (torchvision 0.14) line by line, with the
    hard-coded 64/128/256/512 replaced by `planes`; forward is ResNet's.
    """

    def __init__(self, block, layers, planes, width_per_group=64):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = planes[0]
        self.dilation = 1
        self.groups = 1
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, planes[0], layers[0])
        self.layer2 = self._make_layer(block, planes[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, planes[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, planes[3], layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(planes[3] * block.expansion, 10)


def randomise_bn(model, gen):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=gen) + 0.5
            m.bias.data = torch.randn(c, generator=gen) * 0.1
            m.running_mean.data = torch.randn(c, generator=gen) * 0.1
            m.running_var.data = torch.rand(c, generator=gen) + 0.5


def taps(model, x):
    """Runs ResNet.forward's steps, keeping each stage's output."""
    out = {}
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    for name in LAYERS:
        x = getattr(model, name)(x)
        out[name] = x
    return out


def write(model, name, x, outdir):
    model.eval()
    torch.save(model.state_dict(), os.path.join(outdir, name + ".pth"))
    np.save(os.path.join(outdir, name + "_input.npy"), x.numpy().astype(np.float32))
    with torch.no_grad():
        for layer, y in taps(model, x).items():
            np.save(os.path.join(outdir, "%s_%s.npy" % (name, layer)), y.numpy().astype(np.float32))


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    if len(sys.argv) == 3 and sys.argv[1] == "--full":
        from torchvision.models import wide_resnet50_2
        m = wide_resnet50_2()
        randomise_bn(m, gen)
        write(m, "wide_resnet50_2", torch.randn(2, 3, 224, 224, generator=gen), sys.argv[2])
        return
    here = os.path.dirname(os.path.abspath(__file__))
    planes = [4, 8, 16, 32]
    # Wide bottleneck ResNet (wide_resnet50_2's block, width_per_group=128),
    # two blocks in layer2 so a block without downsample is exercised.
    m = SmallResNet(Bottleneck, [1, 2, 1, 1], planes, width_per_group=128)
    randomise_bn(m, gen)
    write(m, "wide_small", torch.randn(2, 3, 48, 48, generator=gen), here)
    # resnet18's BasicBlock; non-square input with odd sizes on the way down.
    m = SmallResNet(BasicBlock, [2, 1, 1, 1], planes)
    randomise_bn(m, gen)
    write(m, "basic_small", torch.randn(2, 3, 40, 56, generator=gen), here)


if __name__ == "__main__":
    main()
