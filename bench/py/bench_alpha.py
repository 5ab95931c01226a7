# The straightforward PyTorch CPU loop bench.Alpha compares against: for
# each query image i, torch.cdist against every other image j, the minimum
# over j's patches, the mean over j. It reads Z (raw little-endian float32,
# N x M x D) and times only the loop over the query images given; it writes
# their score rows (raw float32, len(rows) x M) and prints {"seconds": wall,
# "cpu": process CPU seconds, "pairs": ..., "torch": version} on stdout.
#
# argv: zpath N M D threads rows(comma-separated) outpath
import json, sys, time
import numpy as np
import torch

zpath, N, M, D, threads, rows, outpath = sys.argv[1:8]
N, M, D, threads = int(N), int(M), int(D), int(threads)
rows = [int(r) for r in rows.split(",")]
torch.set_num_threads(threads)
Z = torch.from_numpy(np.fromfile(zpath, dtype="<f4").reshape(N, M, D))
out = torch.zeros(len(rows), M)
pairs = 0
with torch.no_grad():
    t0, c0 = time.perf_counter(), time.process_time()
    for k, i in enumerate(rows):
        acc = torch.zeros(M)
        for j in range(N):
            if j == i:
                continue
            acc += torch.cdist(Z[i], Z[j]).min(dim=1).values
            pairs += 1
        out[k] = acc / (N - 1)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
out.numpy().astype("<f4").tofile(outpath)
print(json.dumps({"seconds": seconds, "cpu": cpu, "pairs": pairs, "torch": torch.__version__}))
