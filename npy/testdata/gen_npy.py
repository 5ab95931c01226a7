#!/usr/bin/python3
"""Fixtures for package npy: files written by numpy (Debian /usr/bin/python3,
numpy 1.24). Run from this directory:  /usr/bin/python3 gen_npy.py

Valid files (values are a formula of the element index i, checked by the Go test):
  f4_2x3.npy      float32 (2, 3)      i * 0.5 - 1
  f8_4.npy        float64 (4,)        i / 3
  i8_2x2x2.npy    int64   (2, 2, 2)   i - 3
  i4_5.npy        int32   (5,)        i * 1000 - 2
  f4_scalar.npy   float32 ()          one value, 2.5
  f8_0x3.npy      float64 (0, 3)      no values
  f4_v2.npy       float32 (3,)        i * 0.5 - 1, written as format version 2.0
Invalid files (the reader must refuse them):
  fortran.npy     float32 (2, 3) in Fortran order
  bigendian.npy   '>f8' (3,)
  u1.npy          uint8 (3,) (unsupported dtype)
  truncated.npy   f4_2x3.npy without its last 4 bytes
  extra.npy       f4_2x3.npy with 4 trailing bytes
"""
import numpy as np
from numpy.lib import format as fmt


def idx(shape):
    return np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)


np.save("f4_2x3.npy", (idx((2, 3)) * 0.5 - 1).astype("<f4"))
np.save("f8_4.npy", (idx((4,)) / 3).astype("<f8"))
np.save("i8_2x2x2.npy", (idx((2, 2, 2)) - 3).astype("<i8"))
np.save("i4_5.npy", (idx((5,)) * 1000 - 2).astype("<i4"))
np.save("f4_scalar.npy", np.array(2.5, dtype="<f4"))
np.save("f8_0x3.npy", np.zeros((0, 3), dtype="<f8"))
with open("f4_v2.npy", "wb") as f:
    fmt.write_array(f, (idx((3,)) * 0.5 - 1).astype("<f4"), version=(2, 0))
np.save("fortran.npy", np.asfortranarray(idx((2, 3)).astype("<f4")))
np.save("bigendian.npy", idx((3,)).astype(">f8"))
np.save("u1.npy", idx((3,)).astype("u1"))
good = open("f4_2x3.npy", "rb").read()
open("truncated.npy", "wb").write(good[:-4])
open("extra.npy", "wb").write(good + b"\0\0\0\0")
