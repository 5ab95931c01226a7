#!/usr/bin/python3
"""Writes the torch.save fixtures of package torchpt, and expected.json.

Run from this directory with Debian's python3-torch (1.13):
    /usr/bin/python3 gen_checkpoints.py

Each fixture is written by torch.save itself. expected.json maps
file name -> tensor name -> {"dtype", "shape", "bits" or "ints"}, where
"bits" are the float32 bit patterns (uint32) of the values torch reads back
with t.float() (so fp16/bf16 are checked after their exact widening), and
"ints" are integer values. Files listed under "refused" must fail to load;
the value is a substring the error must contain.
"""
import argparse
import collections
import io
import json
import os
import zipfile

import numpy as np
import torch

torch.manual_seed(3)
expected = {}


def record(fname, sd):
    out = {}
    for k, t in sd.items():
        t = t.detach()
        e = {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)}
        if t.is_floating_point():
            e["bits"] = t.float().contiguous().numpy().view(np.uint32).reshape(-1).tolist()
        else:
            e["ints"] = [int(x) for x in t.reshape(-1).tolist()]
        out[k] = e
    expected[fname] = out


def save(fname, obj, sd_expected, **kw):
    torch.save(obj, fname, **kw)
    record(fname, sd_expected)


plain = collections.OrderedDict(
    w=torch.randn(3, 4), b=torch.randn(4), s=torch.tensor(2.5), empty=torch.zeros(0, 3)
)
save("plain.pt", plain, plain)
save("legacy.pt", plain, plain, _use_new_zipfile_serialization=False)
save("proto4.pt", plain, plain, pickle_protocol=4)
save("nested_model.pt", {"model": plain, "epoch": 7, "arch": "tiny"}, plain)
save("nested_state_dict.pt", {"state_dict": plain, "best": 0.5}, plain)

# DINO full checkpoint: teacher (no DDP here, "backbone." prefix) and
# student (DDP: "module.backbone."), a projection head, the run's args as
# an argparse.Namespace. The teacher's backbone is what must be read.
teacher = collections.OrderedDict()
teacher["backbone.cls_token"] = torch.randn(1, 1, 4)
teacher["backbone.blocks.0.norm1.weight"] = torch.randn(4)
teacher["head.mlp.0.weight"] = torch.randn(2, 4)
student = collections.OrderedDict(("module." + k, torch.randn(v.shape)) for k, v in teacher.items())
dino = {
    "student": student,
    "teacher": teacher,
    "epoch": 100,
    "args": argparse.Namespace(arch="vit_small", patch_size=16, lr=0.0005, drop_path_rate=0.1),
    "dino_loss": {"center": torch.randn(1, 3)},
}
save("dino_full.pt", dino, {"cls_token": teacher["backbone.cls_token"], "blocks.0.norm1.weight": teacher["backbone.blocks.0.norm1.weight"]})
ddp = collections.OrderedDict(("module." + k, v) for k, v in plain.items())
save("ddp.pt", ddp, plain)

# Element types. fp16 values include a subnormal, infinities and the
# largest half; bf16 a value that fp16 cannot hold.
half = torch.tensor([1.0, -2.5, 6.1e-5, 5.96e-8, 65504.0, float("inf"), float("-inf"), 0.1], dtype=torch.float16)
bf16 = torch.tensor([1.0, -3.0e38, 1e-30, 0.1, 3.14159], dtype=torch.bfloat16)
dtypes = collections.OrderedDict(
    half=half,
    bf16=bf16,
    long=torch.tensor([0, -1, 2**40, -(2**62), 7]),
    int32=torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32),
    uint8=torch.tensor([0, 255, 17], dtype=torch.uint8),
    boolean=torch.tensor([True, False, True]),
    double=torch.tensor([1.0 / 3.0, -1e-300], dtype=torch.float64),
    num_batches_tracked=torch.tensor(12345),
)
save("dtypes.pt", dtypes, dtypes)

# Strided views and shared storages: a transpose, a slice with a storage
# offset, a strided slice, and two tensors sharing one storage.
base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5
shared = torch.randn(10)
views = collections.OrderedDict(
    transposed=base.t(),
    sliced=base[1:3, 2:5],
    stepped=base[:, ::2],
    shared_a=shared,
    shared_b=shared[3:7],
    expanded=torch.tensor([1.0, 2.0, 3.0]).expand(2, 3),
    half_view=torch.randn(4, 4).half()[1:, ::3],
)
assert views["shared_b"].storage_offset() == 3
save("views.pt", views, views)
save("views_legacy.pt", views, views, _use_new_zipfile_serialization=False)


# A Parameter saved as such (torch._utils._rebuild_parameter).
params = collections.OrderedDict(p=torch.nn.Parameter(torch.randn(2, 2)))
save("parameter.pt", params, params)


# A different top directory name in the archive (torch names it after the
# file; newer torch writes "archive"): rewrite plain.pt's entries.
def rename_top(src, dst, top):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            rest = info.filename.split("/", 1)[1]
            zout.writestr(top + "/" + rest, zin.read(info.filename))
    expected[dst] = expected[src]


rename_top("plain.pt", "renamed_top.pt", "archive")


# Refused files.
class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


torch.save({"x": Evil()}, "evil_global.pt")
refused = {"evil_global.pt": "posix.system"}

# A state dict whose tensor claims more elements than its storage holds:
# patch the pickle of plain.pt so that "w" (3,4) becomes (3,40).
with zipfile.ZipFile("plain.pt") as z:
    entries = {i.filename: z.read(i.filename) for i in z.infolist()}
pkl_name = [n for n in entries if n.endswith("/data.pkl")][0]
pkl = entries[pkl_name]
# (3, 4) is pickled as BININT1 3, BININT1 4, TUPLE2; the first occurrence is w's size.
i = pkl.index(b"K\x03K\x04\x86")
bad = pkl[:i] + b"K\x03K\x28\x86" + pkl[i + 5:]
with zipfile.ZipFile("bad_shape.pt", "w", zipfile.ZIP_STORED) as z:
    for n, b in entries.items():
        z.writestr(n, bad if n == pkl_name else b)
refused["bad_shape.pt"] = '"w"'

# Truncated copy: the zip's central directory is lost.
with open("plain.pt", "rb") as f:
    data = f.read()
with open("truncated.pt", "wb") as f:
    f.write(data[: len(data) // 2])
refused["truncated.pt"] = "zip"

with open("expected.json", "w") as f:
    json.dump({"files": expected, "refused": refused}, f, indent=0, sort_keys=True)
print("wrote", sorted(expected) + sorted(refused))
