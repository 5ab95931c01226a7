#!/usr/bin/python3
"""Golden fixtures for package metrics, from sklearn 1.2 / scipy 1.10 (Debian
/usr/bin/python3).

Run from this directory:  /usr/bin/python3 gen_golden.py
Writes golden.json, an object with
  labels: list of {name, truth, pred (int lists),
                   nmi: normalized_mutual_info_score(truth, pred)  (arithmetic),
                   ari: adjusted_rand_score(truth, pred),
                   f1:  matched / n, matched = contingency[linear_sum_assignment(
                        contingency, maximize=True)].sum()  (null when n = 0)}
  assign: list of {name, rows, cols, cost (row-major floats),
                   total: cost[linear_sum_assignment(cost)].sum()}
Floats are written with repr, so they round-trip exactly.
"""
import json

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

rng = np.random.default_rng(1128)
labels = []


def add(name, truth, pred):
    truth, pred = np.asarray(truth, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    f1 = None
    if len(truth):
        c = contingency_matrix(truth, pred)
        r, k = linear_sum_assignment(c, maximize=True)
        f1 = float(c[r, k].sum() / len(truth))
    labels.append({"name": name, "truth": truth.tolist(), "pred": pred.tolist(),
                   "nmi": float(normalized_mutual_info_score(truth, pred)),
                   "ari": float(adjusted_rand_score(truth, pred)), "f1": f1})


def unbalanced(n, k):
    p = rng.dirichlet(np.full(k, 0.7))
    return rng.choice(k, size=n, p=p)


def noisy(truth, k, flip):
    pred = truth.copy() % k
    m = rng.random(len(truth)) < flip
    pred[m] = rng.integers(0, k, size=m.sum())
    return rng.permutation(k)[pred] * 3 + 7  # arbitrary, non-contiguous names


add("empty", [], [])
add("one_point", [4], [9])
add("both_single", [1, 1, 1, 1], [0, 0, 0, 0])
add("single_cluster", [0, 0, 1, 1, 2], [5, 5, 5, 5, 5])
add("single_class", [3, 3, 3, 3, 3], [0, 1, 0, 2, 2])
add("identical", [0, 1, 2, 0, 1, 2], [0, 1, 2, 0, 1, 2])
add("permuted", [0, 0, 1, 1, 2, 2, 2], [-5, -5, 11, 11, 0, 0, 0])
add("all_singletons", list(range(8)), list(range(8)))
add("singletons_vs_pairs", list(range(8)), [0, 0, 1, 1, 2, 2, 3, 3])
add("negative_ari", [0, 0, 1, 1], [0, 1, 0, 1])
add("two_points_split", [0, 0], [0, 1])
add("tied_contingency", [0, 0, 1, 1, 2, 2], [0, 1, 1, 2, 2, 0])
for n in (2, 3, 10, 37, 120, 300):
    for k_true, k_pred in ((2, 2), (3, 5), (5, 3), (6, 6), (8, 2)):
        if k_true > n:
            continue
        t = unbalanced(n, k_true)
        add(f"noisy_n{n}_{k_true}v{k_pred}", t, noisy(t, k_pred, 0.3))
        add(f"random_n{n}_{k_true}v{k_pred}", t, rng.integers(0, k_pred, size=n))

assign = []
for rows, cols in ((1, 1), (3, 3), (4, 7), (7, 4), (10, 10), (12, 5), (1, 6)):
    c = rng.normal(size=(rows, cols)) * 10
    r, k = linear_sum_assignment(c)
    assign.append({"name": f"normal_{rows}x{cols}", "rows": rows, "cols": cols,
                   "cost": c.ravel().tolist(), "total": float(c[r, k].sum())})
    ci = rng.integers(0, 4, size=(rows, cols)).astype(float)  # many ties
    r, k = linear_sum_assignment(ci)
    assign.append({"name": f"ties_{rows}x{cols}", "rows": rows, "cols": cols,
                   "cost": ci.ravel().tolist(), "total": float(ci[r, k].sum())})

with open("golden.json", "w") as f:
    json.dump({"labels": labels, "assign": assign}, f, separators=(",", ":"))
print("wrote", len(labels), "label cases,", len(assign), "assignment cases")
