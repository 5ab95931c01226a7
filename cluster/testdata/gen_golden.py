#!/usr/bin/python3
"""Golden fixtures for package cluster: Ward linkage and flat labels from
scipy 1.10 / sklearn 1.2 (Debian /usr/bin/python3), k-means inertia from sklearn.

Run from this directory:  /usr/bin/python3 gen_golden.py
Writes golden.json: a list of cases, each
  name      str
  n, d      int
  dtype     "float64" | "float32"  (X values are exact decimal reprs of that type)
  x         n*d floats, row-major; empty when x_npy is set
  x_npy     optional: name of a .npy file beside golden.json holding X (used for
            the wide case, which would be bulky as JSON text)
  linkage   (n-1) x 4 floats: scipy.cluster.hierarchy.ward(X) rows (a, b, height, size)
  cuts      list of {k, sklearn: AgglomerativeClustering(k, linkage='ward').labels_,
                     fcluster: fcluster(Z, t, 'distance') labels (1-based), t midway between
                               the last kept and the first undone merge height,
                     tie_at_cut: those two heights are equal (0 for k = n), so no height
                                 threshold gives this cut}
  (fcluster's 'maxclust' criterion is not used: in this Debian scipy 1.10 it
  returned wrong, even run-to-run different, results on 2-3 point inputs.)
  kmeans    optional {k, inertia}: best inertia of sklearn KMeans(k, n_init=10, random_state=0)
Python floats are written with repr, so every float64 round-trips exactly.
"""
import json
import warnings

import numpy as np
from scipy.cluster.hierarchy import fcluster, ward
from sklearn.cluster import AgglomerativeClustering, KMeans

warnings.filterwarnings("ignore")
rng = np.random.default_rng(20261128)


def blobs(sizes, d, spread, scale=1.0):
    centers = rng.normal(0, spread, size=(len(sizes), d))
    parts = [c + scale * rng.normal(size=(s, d)) for c, s in zip(centers, sizes)]
    return np.concatenate(parts)[rng.permutation(sum(sizes))]


def case(name, x, ks, dtype="float64", kmeans_k=None, npy=None):
    x = np.asarray(x, dtype=dtype)
    n, d = x.shape
    z = ward(x)
    cuts = []
    for k in ks:
        sk = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(x).labels_ if n >= 2 else np.zeros(n, int)
        # The cut undoes the last k-1 merges: it lies between the height of
        # the last kept merge (0 for k = n) and the first undone one.
        lo = z[n - k - 1, 2] if k < n else 0.0
        hi = z[n - k, 2] if k > 1 else lo + 1.0
        tie = bool(lo == hi)
        fc = fcluster(z, (lo + hi) / 2, criterion="distance")
        cuts.append({"k": k, "sklearn": [int(v) for v in sk], "fcluster": [int(v) for v in fc], "tie_at_cut": tie})
    c = {"name": name, "n": n, "d": d, "dtype": dtype,
         "x": [] if npy else [float(v) for v in x.ravel()],
         "linkage": [[float(v) for v in row] for row in z],
         "cuts": cuts}
    if npy:
        np.save(npy, x)
        c["x_npy"] = npy
    if kmeans_k is not None:
        km = KMeans(n_clusters=kmeans_k, n_init=10, random_state=0).fit(x.astype(np.float64))
        c["kmeans"] = {"k": kmeans_k, "inertia": float(km.inertia_)}
    return c


cases = []
cases.append(case("two_points", [[0.0, 1.0], [3.0, 5.0]], [1, 2]))
cases.append(case("three_points", [[0.0], [1.0], [5.0]], [1, 2, 3]))
cases.append(case("blobs_unbalanced_60x5", blobs([30, 15, 10, 5], 5, 6.0), [1, 2, 4, 7, 60], kmeans_k=4))
cases.append(case("blobs_unbalanced_300x8", blobs([120, 80, 50, 25, 15, 10], 8, 5.0), [2, 6, 10, 50], kmeans_k=6))
cases.append(case("blobs_float32_150x16", blobs([70, 50, 30], 16, 3.0, 1.5), [3, 5], dtype="float32", kmeans_k=3))
# Wide float32 embeddings like X (D = 512): long sums in pdist.
cases.append(case("wide_float32_120x512", blobs([60, 30, 20, 10], 512, 0.3), [2, 4, 9],
                  dtype="float32", kmeans_k=4, npy="wide_float32_120x512.npy"))
cases.append(case("overlapping_200x3", blobs([100, 60, 40], 3, 1.0), [2, 3, 8], kmeans_k=3))
# Exact ties: an integer grid (many equal distances), duplicated points,
# and identical points (all heights 0).
g = np.array([[i, j] for i in range(6) for j in range(6)], dtype=np.float64)
cases.append(case("grid_6x6", g, [1, 2, 3, 4, 5, 9, 36]))
g3 = np.array([[i, j, k] for i in range(4) for j in range(4) for k in range(3)], dtype=np.float64)
cases.append(case("grid_4x4x3", g3, [2, 4, 6, 12]))
base = rng.integers(0, 5, size=(15, 3)).astype(np.float64)
dup = np.repeat(base, rng.integers(1, 5, size=15), axis=0)
cases.append(case("duplicates_int", dup[rng.permutation(len(dup))], [2, 3, 5, 8]))
cases.append(case("identical_10", np.ones((10, 4)), [1, 3, 10]))
line = rng.integers(0, 12, size=(40, 1)).astype(np.float64)
cases.append(case("integers_1d", line, [2, 3, 6, 12]))

with open("golden.json", "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print("wrote", len(cases), "cases")
