#!/usr/bin/python3
"""Independent reading of the shared MobileNet TFLite files, for tflite_test.go.

Parses the FlatBuffer with `struct` only (no tensorflow, no flatbuffers
package; schema: tensorflow/lite/schema/schema.fbs) and writes
testdata/tflite_expect.json with, per model:
  - version, tensor and buffer counts, subgraph inputs/outputs;
  - every operator: builtin code, inputs, outputs and the decoded options of
    CONV_2D / DEPTHWISE_CONV_2D / AVERAGE_POOL_2D / ADD / SOFTMAX;
  - a few constant tensors (found through an operator's input slot): name,
    shape, type, scale, zero point, quantized_dimension, the first 16 raw
    values, the first 16 dequantised float32 values and the float64 sum of
    all dequantised values. Dequantisation: float32(float64(scale) * (q - zp)),
    as TFLite's reference_ops::Dequantize computes it.

Run from the package directory:  /usr/bin/python3 testdata/gen_tflite_expect.py
(the weights are read from ../../../shared/weights relative to the module root).
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "shared", "weights"))


class FB:
    def __init__(self, buf):
        self.b = buf

    def u8(self, p): return self.b[p]
    def i8(self, p): return struct.unpack_from("<b", self.b, p)[0]
    def u16(self, p): return struct.unpack_from("<H", self.b, p)[0]
    def i32(self, p): return struct.unpack_from("<i", self.b, p)[0]
    def u32(self, p): return struct.unpack_from("<I", self.b, p)[0]
    def f32(self, p): return struct.unpack_from("<f", self.b, p)[0]

    def root(self): return self.u32(0)

    def field(self, t, fid):
        vt = t - self.i32(t)
        vsize = self.u16(vt)
        slot = 4 + 2 * fid
        if slot + 2 > vsize:
            return None
        off = self.u16(vt + slot)
        return t + off if off else None

    def scalar(self, t, fid, fmt, default):
        p = self.field(t, fid)
        return default if p is None else struct.unpack_from("<" + fmt, self.b, p)[0]

    def deref(self, t, fid):
        p = self.field(t, fid)
        return None if p is None else p + self.u32(p)

    def vec(self, t, fid):
        p = self.deref(t, fid)
        if p is None:
            return 0, 0
        return p + 4, self.u32(p)

    def vec_scalars(self, t, fid, fmt):
        start, n = self.vec(t, fid)
        size = struct.calcsize("<" + fmt)
        return [struct.unpack_from("<" + fmt, self.b, start + i * size)[0] for i in range(n)]

    def vec_tables(self, t, fid):
        start, n = self.vec(t, fid)
        return [start + 4 * i + self.u32(start + 4 * i) for i in range(n)]

    def string(self, t, fid):
        start, n = self.vec(t, fid)
        return bytes(self.b[start:start + n]).decode()

    def raw(self, t, fid):
        start, n = self.vec(t, fid)
        return bytes(self.b[start:start + n])


TYPES = {0: ("FLOAT32", "<f4"), 2: ("INT32", "<i4"), 3: ("UINT8", "u1"), 9: ("INT8", "i1")}


def read(path):
    fb = FB(open(path, "rb").read())
    m = fb.root()
    codes = []
    for oc in fb.vec_tables(m, 1):
        dep = fb.scalar(oc, 0, "b", 0)
        new = fb.scalar(oc, 3, "i", 0)
        codes.append(max(dep, new))
    buffers = [fb.raw(b, 0) for b in fb.vec_tables(m, 4)]
    sg = fb.vec_tables(m, 2)[0]
    tensors = fb.vec_tables(sg, 0)
    ops = []
    for op in fb.vec_tables(sg, 3):
        code = codes[fb.scalar(op, 0, "I", 0)]
        d = {"op": code, "inputs": fb.vec_scalars(op, 1, "i"), "outputs": fb.vec_scalars(op, 2, "i")}
        otype = fb.scalar(op, 3, "B", 0)
        o = fb.deref(op, 4)
        if o is not None:
            if otype == 1:  # Conv2DOptions
                d["options"] = {"padding": fb.scalar(o, 0, "b", 0), "stride_w": fb.scalar(o, 1, "i", 0),
                                "stride_h": fb.scalar(o, 2, "i", 0), "activation": fb.scalar(o, 3, "b", 0),
                                "dilation_w": fb.scalar(o, 4, "i", 1), "dilation_h": fb.scalar(o, 5, "i", 1)}
            elif otype == 2:  # DepthwiseConv2DOptions
                d["options"] = {"padding": fb.scalar(o, 0, "b", 0), "stride_w": fb.scalar(o, 1, "i", 0),
                                "stride_h": fb.scalar(o, 2, "i", 0), "depth_multiplier": fb.scalar(o, 3, "i", 0),
                                "activation": fb.scalar(o, 4, "b", 0),
                                "dilation_w": fb.scalar(o, 5, "i", 1), "dilation_h": fb.scalar(o, 6, "i", 1)}
            elif otype == 5:  # Pool2DOptions
                d["options"] = {"padding": fb.scalar(o, 0, "b", 0), "stride_w": fb.scalar(o, 1, "i", 0),
                                "stride_h": fb.scalar(o, 2, "i", 0), "filter_w": fb.scalar(o, 3, "i", 0),
                                "filter_h": fb.scalar(o, 4, "i", 0), "activation": fb.scalar(o, 5, "b", 0)}
            elif otype == 11:  # AddOptions
                d["options"] = {"activation": fb.scalar(o, 0, "b", 0)}
            elif otype == 9:  # SoftmaxOptions
                d["options"] = {"beta": fb.scalar(o, 0, "f", 0.0)}
        ops.append(d)

    def tensor(ti):
        t = tensors[ti]
        ttype = fb.scalar(t, 1, "b", 0)
        q = fb.deref(t, 4)
        scale = fb.vec_scalars(q, 2, "f") if q is not None else []
        zp = fb.vec_scalars(q, 3, "q") if q is not None else []
        qdim = fb.scalar(q, 6, "i", 0) if q is not None else 0
        shape = fb.vec_scalars(t, 0, "i")
        data = buffers[fb.scalar(t, 2, "I", 0)]
        raw = np.frombuffer(data, dtype=TYPES[ttype][1]).astype(np.int64).reshape(shape)
        # Per-channel along qdim when several scales, else per-tensor.
        sc = np.array(scale, dtype=np.float32).astype(np.float64)
        zpa = np.array(zp if zp else [0], dtype=np.int64)
        bshape = [1] * len(shape)
        if len(scale) > 1:
            bshape[qdim] = len(scale)
        deq = (sc.reshape(bshape) * (raw - zpa.reshape(bshape if len(zp) > 1 else [1] * len(shape)))).astype(np.float32)
        return {"index": ti, "name": fb.string(t, 3), "shape": shape, "type": TYPES[ttype][0],
                "scale": [float(s) for s in scale], "zero_point": zp, "quantized_dimension": qdim,
                "first_raw": raw.reshape(-1)[:16].tolist(),
                "first_values": [float(v) for v in deq.reshape(-1)[:16]],
                "sum": float(deq.astype(np.float64).sum())}

    in0 = tensors[fb.vec_scalars(sg, 1, "i")[0]]
    q0 = fb.deref(in0, 4)
    return fb, m, sg, tensors, buffers, ops, tensor, {
        "version": fb.scalar(m, 0, "I", 0),
        "num_tensors": len(tensors),
        "num_buffers": len(buffers),
        "inputs": fb.vec_scalars(sg, 1, "i"),
        "outputs": fb.vec_scalars(sg, 2, "i"),
        "input_scale": fb.vec_scalars(q0, 2, "f"),
        "input_zero_point": fb.vec_scalars(q0, 3, "q"),
        "operators": ops,
    }


def main():
    out = {}
    for name in ["mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", "mobilenet_v2_1.0_224_quant.tflite"]:
        fb, m, sg, tensors, buffers, ops, tensor, summary = read(os.path.join(WEIGHTS, name))
        # (operator index, input slot) of the tensors to record: the first
        # conv's weights and bias, the first depthwise's weights, the last op
        # with weights (V1: last pointwise conv, V2: the logits 1x1 conv).
        with_weights = [i for i, o in enumerate(ops) if o["op"] in (3, 4)]
        picks = [(0, 1), (0, 2), (1, 1), (with_weights[-1], 1), (with_weights[-1], 2)]
        summary["tensors"] = [dict(tensor(ops[i]["inputs"][s]), op=i, slot=s) for i, s in picks]
        out[name] = summary
    path = os.path.join(HERE, "tflite_expect.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
