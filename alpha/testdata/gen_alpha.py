#!/usr/bin/python3
"""Golden values for package alpha (docs/METHOD.md §4), computed by brute force in
float64 with torch/numpy. Run from this directory with Debian's
/usr/bin/python3 (torch 1.13):
    /usr/bin/python3 gen_alpha.py
It writes golden.json (plain JSON numbers; Z values are float32 values
written exactly):
  z        (N, M, D)  patch embeddings of the images being clustered
  bank     (B, M, D)  normal images forming the semi-supervised memory bank
  s_unsup  (N, M)     mean over j != i of min_n ||z_i^m - z_j^n||
  s_semi   (N, M)     min over all bank patches of ||z_i^m - b||
  taus                temperatures
  alpha_unsup, alpha_semi  (T, N, M)  softmax(s / tau) per image; tau = 0: arg-max set
  x_unsup, x_semi          (T, N, D)  X_i = sum_m alpha_i^m z_i^m
  s_ties, alpha_ties (T, R, M): scores with exact ties and their weights
  coreset_x (n, k), coreset_starts, coreset_num, coreset_idx: PatchCore's
    ApproximateGreedyCoresetSampler._compute_greedy_coreset_indices on
    already projected rows with given starting points.
"""
import json

import numpy as np
import torch

TAUS = [0.0, 0.5, 2.0, 20.0]


def alpha(s, tau):
    s = np.asarray(s, dtype=np.float64)
    if tau == 0:
        a = (s == s.max(axis=1, keepdims=True)).astype(np.float64)
    else:
        e = np.exp((s - s.max(axis=1, keepdims=True)) / tau)
        a = e
    return a / a.sum(axis=1, keepdims=True)


def batchwise(a, b):
    # GreedyCoresetSampler._compute_batchwise_differences
    aa = a.unsqueeze(1).bmm(a.unsqueeze(2)).reshape(-1, 1)
    bb = b.unsqueeze(1).bmm(b.unsqueeze(2)).reshape(1, -1)
    ab = a.mm(b.T)
    return (-2 * ab + aa + bb).clamp(0, None).sqrt()


def greedy(features, start_points, num):
    # ApproximateGreedyCoresetSampler._compute_greedy_coreset_indices with
    # given start points instead of np.random.choice.
    d = batchwise(features, features[start_points])
    anchor = torch.mean(d, axis=-1).reshape(-1, 1)
    out = []
    for _ in range(num):
        sel = torch.argmax(anchor).item()
        out.append(sel)
        dsel = batchwise(features, features[sel:sel + 1])
        anchor = torch.cat([anchor, dsel], dim=-1)
        anchor = torch.min(anchor, dim=1).values.reshape(-1, 1)
    return out


def main():
    rng = np.random.default_rng(7)
    N, M, D, B = 5, 9, 16, 3
    z = rng.standard_normal((N, M, D)).astype(np.float32)
    bank = rng.standard_normal((B, M, D)).astype(np.float32)
    z64, bank64 = z.astype(np.float64), bank.astype(np.float64)

    s_unsup = np.zeros((N, M))
    for i in range(N):
        for j in range(N):
            if i != j:
                d = torch.cdist(torch.from_numpy(z64[i]), torch.from_numpy(z64[j]),
                                compute_mode="donot_use_mm_for_euclid_dist")
                s_unsup[i] += d.min(dim=1).values.numpy()
    s_unsup /= N - 1
    flat = torch.from_numpy(bank64.reshape(-1, D))
    s_semi = np.stack([torch.cdist(torch.from_numpy(z64[i]), flat,
                                   compute_mode="donot_use_mm_for_euclid_dist").min(dim=1).values.numpy()
                       for i in range(N)])
    # tau = 0 end to end needs a clear maximum per image (the GEMM-form
    # distances are only accurate to ~1e-4 here).
    for s in (s_unsup, s_semi):
        top = np.sort(s, axis=1)
        assert (top[:, -1] - top[:, -2]).min() > 1e-3, "near tie: change the seed"

    s_ties = np.array([[1.0, 3.0, 3.0, 2.0, -1.0, 3.0],
                       [0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
                       [-2.0, 7.25, 1.0, 7.25, 7.0, 0.0],
                       [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]])

    out = dict(z=z.tolist(), bank=bank.tolist(), s_unsup=s_unsup.tolist(), s_semi=s_semi.tolist(),
               taus=TAUS, s_ties=s_ties.tolist())
    for name, s in (("unsup", s_unsup), ("semi", s_semi), ("ties", s_ties)):
        al = [alpha(s, t) for t in TAUS]
        out["alpha_" + name] = [a.tolist() for a in al]
        if name != "ties":
            out["x_" + name] = [np.einsum("nm,nmd->nd", a, z64).tolist() for a in al]

    cx = rng.standard_normal((200, 8)).astype(np.float32)
    starts = rng.choice(200, 10, replace=False).tolist()
    num = int(200 * 0.1)
    idx = greedy(torch.from_numpy(cx), starts, num)
    # The selection must not hinge on float32 rounding: float64 agrees.
    assert idx == greedy(torch.from_numpy(cx.astype(np.float64)), starts, num)
    out.update(coreset_x=cx.tolist(), coreset_starts=starts, coreset_num=num, coreset_idx=idx)

    with open("golden.json", "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main()
