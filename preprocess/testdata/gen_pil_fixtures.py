#!/usr/bin/python3
"""Writes the Pillow/torchvision fixtures for preprocess_test.go.

Run from this directory with Debian's python3 (PIL 9.4, torchvision 0.14):
    /usr/bin/python3 gen_pil_fixtures.py

For each case NAME it writes
  in_NAME.png|jpg     the input image (small, smooth + noise so it compresses)
  want_NAME.png       8-bit RGB result of torchvision Resize(resize) + CenterCrop(crop)
                      on Image.open(in).convert("RGB") (PIL path, antialiased bilinear)
and, for cases with normalise=True,
  want_NAME.f32       ToTensor + Normalize(mean, std) of the same, as raw little-endian
                      float32 in (H, W, 3) channels-last order (torch's CHW permuted).
cases.txt lists one case per line: name input resize crop mean0 mean1 mean2 std0 std1 std2 grey16
(the mean/std columns are "-" when there is no .f32).
"""
import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T

rng = np.random.default_rng(1234)
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
HALF = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


def smooth(h, w, c, noise=12):
    """Gradients, a few sinusoids and +-noise levels of noise, in 0..255."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((h, w, c))
    for k in range(c):
        fx, fy, ph = rng.uniform(0.02, 0.3, 2).tolist() + [rng.uniform(0, 6)]
        base = 128 + 90 * np.sin(fx * x + ph) * np.cos(fy * y) + 30 * (x / w - y / h)
        out[..., k] = base + rng.integers(-noise, noise + 1, (h, w))
    # Hard edges too: a saturated block and a black block test the clipping.
    out[h // 4: h // 3, w // 5: w // 3] = 255
    out[h // 2: h // 2 + 3, :] = 0
    return np.clip(out, 0, 255).astype(np.uint8)


def make_inputs():
    ims = {}
    ims["rgb97x61"] = Image.fromarray(smooth(61, 97, 3), "RGB")
    ims["grey61x97"] = Image.fromarray(smooth(97, 61, 1)[..., 0], "L")
    ims["rgba300x211"] = Image.fromarray(smooth(211, 300, 4, noise=2), "RGBA")
    ims["rgb64x64"] = Image.fromarray(smooth(64, 64, 3), "RGB")
    ims["pal80x50"] = Image.fromarray(smooth(50, 80, 3), "RGB").quantize(37)
    ims["la50x40"] = Image.fromarray(smooth(40, 50, 2), "LA")
    ims["rgb401x333"] = Image.fromarray(smooth(333, 401, 3, noise=2), "RGB")
    g16 = (smooth(45, 70, 1)[..., 0].astype(np.uint16) * 3).astype(np.uint16)  # 0..765
    ims["grey16_70x45"] = Image.fromarray(g16)  # mode I;16, saved as a 16-bit PNG
    return ims


# name, input, resize, crop, normalisation (None: uint8 only), grey16 mode
CASES = [
    ("rgb97x61_40_32", "rgb97x61", 40, 32, IMAGENET, 0),
    ("rgb97x61_61_61", "rgb97x61", 61, 61, None, 0),       # no vertical pass
    ("grey61x97_50_48", "grey61x97", 50, 48, HALF, 0),
    ("rgba300x211_64_56", "rgba300x211", 64, 56, None, 0),
    ("rgb64x64_100_96", "rgb64x64", 100, 96, None, 0),     # upscale
    ("pal80x50_30_30", "pal80x50", 30, 30, None, 0),
    ("la50x40_20_24", "la50x40", 20, 24, IMAGENET, 0),     # crop > resize: zero padding
    ("rgb401x333_256_224", "rgb401x333", 256, 224, None, 0),
    ("rgb401x333_37_33", "rgb401x333", 37, 33, None, 0),   # strong downscale (factor 9)
    ("grey16_70x45_30_28", "grey16_70x45", 30, 28, None, 1),  # PIL clips mode I to 255
]


def main():
    ims = make_inputs()
    for name, im in ims.items():
        im.save(f"in_{name}.png", optimize=True)
    # A JPEG whose decoder differs (libjpeg vs Go): compared with a tolerance only.
    # 4:2:0 chroma (PIL's default) adds the upsampling difference (libjpeg's
    # "fancy" triangular filter vs Go's replication) at colour edges; 4:4:4 and
    # greyscale leave only the IDCT's rounding.
    ims["rgb401x333"].save("in_photo420.jpg", quality=90)
    ims["rgb401x333"].save("in_photo444.jpg", quality=90, subsampling=0)
    ims["grey61x97"].save("in_grey.jpg", quality=90)
    lines = []
    for name, src, resize, crop, norm, g16 in CASES:
        lines.append(run(name, f"in_{src}.png", resize, crop, norm, g16))
    lines.append(run("jpeg420_256_224", "in_photo420.jpg", 256, 224, None, 0))
    lines.append(run("jpeg444_64_56", "in_photo444.jpg", 64, 56, None, 0))
    lines.append(run("jpeggrey_50_48", "in_grey.jpg", 50, 48, None, 0))
    with open("cases.txt", "w") as f:
        f.write("\n".join(lines) + "\n")


def run(name, path, resize, crop, norm, g16):
    im = Image.open(path).convert("RGB")
    out = T.Compose([T.Resize(resize), T.CenterCrop(crop)])(im)
    out.save(f"want_{name}.png")
    cols = ["-"] * 6
    if norm is not None:
        mean, std = norm
        x = T.Compose([T.ToTensor(), T.Normalize(mean, std)])(out)
        x.permute(1, 2, 0).contiguous().numpy().astype("<f4").tofile(f"want_{name}.f32")
        cols = [repr(v) for v in mean + std]
    return " ".join([name, path, str(resize), str(crop)] + cols + [str(g16)])


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
