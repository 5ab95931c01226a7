#!/usr/bin/python3
"""Writes the safetensors fixtures of package safetensors and expected.json.

Run from this directory: /usr/bin/python3 gen_safetensors.py

The safetensors Python package is not installed here, so the format is
written by hand following its specification (8-byte little-endian header
length, JSON header with dtype/shape/data_offsets relative to the data
section, header padded with spaces to a multiple of 8 as the reference
writer does, little-endian data). The tensors are also saved with torch
as a cross-check of the bytes (torch.Tensor.numpy().tobytes()).

expected.json: {"files": {file: {tensor: {"dtype", "shape", "bits"|"ints"}}},
"refused": {file: substring of the error}}; "bits" are float32 bit patterns.
"""
import json
import struct

import numpy as np
import torch

rng = np.random.default_rng(5)


def write(fname, tensors, metadata=None, pad=True, raw_header=None, data_override=None):
    """tensors: list of (name, dtype string, shape, bytes)."""
    header, off, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dt, shape, b in tensors:
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        data += b
    h = json.dumps(header, separators=(",", ":")).encode() if raw_header is None else raw_header
    if pad:
        h += b" " * (-len(h) % 8)
    with open(fname, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + (data if data_override is None else data_override))


def bits(a):
    return np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32).tolist()


expected, refused = {}, {}

f32 = rng.standard_normal((3, 5)).astype(np.float32)
f16 = np.array([1.0, -2.5, 6.1e-5, 5.96e-8, 65504.0, np.inf, 0.1], dtype=np.float16)
bf16_src = np.array([1.0, -3.0e38, 1e-30, 0.1, 3.14159], dtype=np.float32)
bf16 = (bf16_src.view(np.uint32) >> 16).astype(np.uint16)  # truncation, exact by construction
i64 = np.array([0, -1, 2**40, -(2**62)], dtype=np.int64)
u8 = np.array([1, 2, 3], dtype=np.uint8)  # odd length: the next tensor starts unaligned
f32b = rng.standard_normal(4).astype(np.float32)
boolean = np.array([True, False, True, True], dtype=np.bool_)
f64 = np.array([1.0 / 3.0, -1e-300], dtype=np.float64)
scalar = np.array(7.5, dtype=np.float32)

# Cross-check: torch's bytes for the same tensors are the ones written.
assert torch.from_numpy(f32).numpy().tobytes() == f32.tobytes()
assert torch.from_numpy(f16).numpy().tobytes() == f16.tobytes()

tensors = [
    ("weight", "F32", f32.shape, f32.tobytes()),
    ("half", "F16", f16.shape, f16.tobytes()),
    ("bf16", "BF16", bf16.shape, bf16.tobytes()),
    ("long", "I64", i64.shape, i64.tobytes()),
    ("bytes", "U8", u8.shape, u8.tobytes()),
    ("unaligned", "F32", f32b.shape, f32b.tobytes()),
    ("mask", "BOOL", boolean.shape, boolean.tobytes()),
    ("double", "F64", f64.shape, f64.tobytes()),
    ("scalar", "F32", (), scalar.tobytes()),
    ("empty", "F32", (0, 4), b""),
]
write("model.safetensors", tensors, metadata={"format": "pt"})
expected["model.safetensors"] = {
    "weight": {"dtype": "float32", "shape": [3, 5], "bits": bits(f32)},
    "half": {"dtype": "float16", "shape": [7], "bits": bits(f16.astype(np.float32))},
    "bf16": {"dtype": "bfloat16", "shape": [5], "bits": (bf16.astype(np.uint32) << 16).tolist()},
    "long": {"dtype": "int64", "shape": [4], "ints": i64.tolist()},
    "bytes": {"dtype": "uint8", "shape": [3], "ints": u8.tolist()},
    "unaligned": {"dtype": "float32", "shape": [4], "bits": bits(f32b)},
    "mask": {"dtype": "bool", "shape": [4], "ints": boolean.astype(np.int64).tolist()},
    "double": {"dtype": "float64", "shape": [2], "bits": bits(f64.astype(np.float32))},
    "scalar": {"dtype": "float32", "shape": [], "bits": bits(scalar)},
    "empty": {"dtype": "float32", "shape": [0, 4], "bits": []},
}

small = [("a", "F32", (2,), np.array([1, 2], dtype=np.float32).tobytes()),
         ("b", "F32", (2,), np.array([3, 4], dtype=np.float32).tobytes())]

# Header length larger than the file.
with open("huge_header.safetensors", "wb") as f:
    f.write(struct.pack("<Q", 1 << 40) + b'{"a":{}}')
refused["huge_header.safetensors"] = "header"

# Header claims bytes beyond the data.
write("past_end.safetensors", small, data_override=np.array([1, 2, 3], dtype=np.float32).tobytes())
refused["past_end.safetensors"] = "outside"

# Shape disagrees with the byte span.
hdr = json.dumps({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}).encode()
write("bad_shape.safetensors", [], raw_header=hdr, data_override=b"\0" * 8)
refused["bad_shape.safetensors"] = "needs 12 bytes"

# Overlapping tensors.
hdr = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}).encode()
write("overlap.safetensors", [], raw_header=hdr, data_override=b"\0" * 12)
refused["overlap.safetensors"] = "overlap"

# Unknown dtype.
hdr = json.dumps({"a": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}).encode()
write("dtype.safetensors", [], raw_header=hdr, data_override=b"\0" * 2)
refused["dtype.safetensors"] = "F8_E4M3"

# Not JSON / wrong magic.
with open("not_json.safetensors", "wb") as f:
    f.write(struct.pack("<Q", 8) + b"PK\x03\x04abcd")
refused["not_json.safetensors"] = "JSON"

# Truncated.
with open("model.safetensors", "rb") as f:
    whole = f.read()
with open("truncated.safetensors", "wb") as f:
    f.write(whole[: len(whole) - 10])
refused["truncated.safetensors"] = "outside"

with open("expected.json", "w") as f:
    json.dump({"files": expected, "refused": refused}, f, indent=0, sort_keys=True)
print("wrote", sorted(expected), sorted(refused))
