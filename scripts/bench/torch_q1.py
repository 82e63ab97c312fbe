#!/usr/bin/python3
"""PyTorch CPU side of Question 1's fit throughput: the seed's way, one model at a time.

Run with Debian's interpreter (python3-torch, python3-numpy; scripts/install-bench-deps.sh installs them):

    /usr/bin/python3 scripts/bench/torch_q1.py [--classifier cnn|linear] [--dtype float32|float64] [--fits 5] [--k 1000] [--steps N] [--threads N]

--classifier linear is levstudy's linear classifier (q1.FitLinear, BenchmarkQ1Fits/classifier=linear):
softmax regression in float32 (--dtype float64: in float64, as q1.LinearOptions.Float64) on the raw
pixels / 255 centred on the selected rows, full-batch Adam lr 0.01 for --steps steps (default 300), L2
1e-4 on the weights; the record is "q1_linear_fits".

Each fit is what levstudy's BenchmarkQ1CNN times (levlib/group_bench_test.go): MnistConvNet from PyTorch's
default init (seeded), trained on k random training images for --steps steps of batch 64 (Adam lr 1e-3,
cross-entropy on the logits; the rows reshuffled every epoch, as TrainCNN's Steps), then its predictions
under torch.no_grad() on its k selected rows, 10,000 training rows (drawn once) and the 10,000 test rows.
The evaluation batch is the fastest of --eval-batches on a short scan (the first one if only one is given).

Prints one JSON object on stdout (progress on stderr):

    {"name": "q1_cnn_fits", "fits": 5, "seconds": 41.2, "fits_per_min": 7.3, "train_s": ..., "eval_s": ..., ...}

seconds is the wall time of all fits (training and evaluation; the scan excluded); train_s and eval_s
split it. Threads: --threads, else $BENCH_THREADS, else the CPUs this process may run on (torch and
OpenBLAS alike, as torch_bench.py).
"""
import argparse
import json
import os
import sys
import time

from torchmnist import default_data_dir, default_threads, load_mnist, mnist_convnet, to_input


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=None, help="folder with the four MNIST .gz files (default: as torch_bench.py)")
    p.add_argument("--fits", type=int, default=5, help="models trained one after the other (default %(default)s)")
    p.add_argument("--k", type=int, default=1000, help="selected training rows per fit (default %(default)s)")
    p.add_argument("--classifier", choices=["cnn", "linear"], default="cnn", help="the classifier (default %(default)s)")
    p.add_argument("--steps", type=int, default=0, help="optimizer steps per fit (default 200 for cnn, 300 for linear)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="precision of the linear classifier (default %(default)s, as levstudy's default)")
    p.add_argument("--eval-train", type=int, default=10000, help="training rows of the accuracy (default %(default)s)")
    p.add_argument("--eval-batches", default="1000,100,250",
                   help="evaluation batch sizes tried on a short scan, the first the reference (default %(default)s)")
    p.add_argument("--threads", type=int, default=default_threads(), help="torch threads (default %(default)s)")
    a = p.parse_args()
    if a.steps == 0:
        a.steps = 200 if a.classifier == "cnn" else 300
    if a.fits < 1 or a.k < 1 or a.steps < 1 or a.threads < 1 or a.eval_train < 1:
        p.error("--fits, --k, --steps, --eval-train and --threads must be positive")
    if a.classifier == "cnn" and a.dtype != "float32":
        p.error("--dtype applies to --classifier linear (the cnn trains in float32, as levstudy's)")
    return a


ARGS = parse_args()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def log(*a):
    print("torch_q1:", *a, file=sys.stderr, flush=True)


def train(x, y, seed):
    """One fit: --steps steps of batch 64 over the k rows x, y, reshuffled every epoch."""
    torch.manual_seed(seed)
    model = mnist_convnet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    n, batch, step = x.shape[0], 64, 0
    model.train()
    while step < ARGS.steps:
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            if step >= ARGS.steps:
                break
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
            step += 1
    return model


def predict(model, x, batch):
    model.eval()
    out = torch.empty(x.shape[0], dtype=torch.int64)
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out[i:i + batch] = model(x[i:i + batch]).argmax(1)
    return out


class LinearModel:
    """Softmax regression on centred pixels, as q1.FitLinear (in --dtype)."""

    def __init__(self, x, y):
        self.dtype = torch.float64 if ARGS.dtype == "float64" else torch.float32
        x = x.reshape(x.shape[0], -1).to(self.dtype)
        self.mean = x.mean(0)
        xc = x - self.mean
        self.w = torch.zeros(xc.shape[1], 10, dtype=self.dtype, requires_grad=True)
        self.b = torch.zeros(10, dtype=self.dtype, requires_grad=True)
        opt = torch.optim.Adam([self.w, self.b], lr=0.01)
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(ARGS.steps):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(xc @ self.w + self.b, y) + 0.5e-4 * (self.w * self.w).sum()
            loss.backward()
            opt.step()

    def eval(self):
        pass

    def __call__(self, x):
        with torch.no_grad():
            return (x.reshape(x.shape[0], -1).to(self.dtype) - self.mean) @ self.w + self.b


def train_any(x, y, seed):
    if ARGS.classifier == "linear":
        return LinearModel(x, y)
    return train(x, y, seed)


def main():
    torch.set_num_threads(ARGS.threads)
    images, labels = load_mnist(ARGS.data or default_data_dir(), "torch_q1")
    x_all, y_all = to_input(images), torch.from_numpy(labels)
    rng = np.random.default_rng(1)
    train_rows = torch.from_numpy(rng.permutation(60000)[:ARGS.eval_train])
    test_rows = torch.arange(60000, 70000)
    shared = (x_all[train_rows], y_all[train_rows], x_all[test_rows], y_all[test_rows])
    sels = [torch.from_numpy(np.random.default_rng(100 + i).permutation(60000)[:ARGS.k]) for i in range(ARGS.fits)]

    batches = [int(b) for b in ARGS.eval_batches.split(",") if b.strip()]
    best = batches[0]
    if len(batches) > 1 and ARGS.classifier == "cnn":  # a short scan on an untrained network
        m, speed = mnist_convnet(), {}
        xs = shared[0][:3000]
        predict(m, xs[:200], batches[0])  # warm-up
        for b in batches:
            t0 = time.perf_counter()
            predict(m, xs, b)
            speed[b] = xs.shape[0] / (time.perf_counter() - t0)
        best = max(speed, key=speed.get)
        log("evaluation batch scan (images/s):", {b: round(v) for b, v in speed.items()}, "->", best)
    train_any(x_all[sels[0][:128]], y_all[sels[0][:128]], 0)  # warm-up (oneDNN primitives, allocator)

    t_train = t_eval = 0.0
    accs = []
    t_all = time.perf_counter()
    for i, sel in enumerate(sels):
        t0 = time.perf_counter()
        model = train_any(x_all[sel], y_all[sel], i + 1)
        t1 = time.perf_counter()
        acc = [float((predict(model, x_all[sel], best) == y_all[sel]).float().mean())]
        for xs, ys in ((shared[0], shared[1]), (shared[2], shared[3])):
            acc.append(float((predict(model, xs, best) == ys).float().mean()))
        t2 = time.perf_counter()
        t_train, t_eval = t_train + t1 - t0, t_eval + t2 - t1
        accs.append(acc)
        log(f"fit {i + 1}/{ARGS.fits}: train {t1 - t0:.2f} s, eval {t2 - t1:.2f} s, acc selected/train/test {acc[0]:.3f}/{acc[1]:.3f}/{acc[2]:.3f}")
    secs = time.perf_counter() - t_all
    rec = {
        "name": f"q1_{ARGS.classifier}_fits", "fits": ARGS.fits, "k": ARGS.k, "steps": ARGS.steps, "seconds": round(secs, 3),
        "fits_per_min": round(60 * ARGS.fits / secs, 3), "train_s": round(t_train, 3), "eval_s": round(t_eval, 3),
        "eval_batch": best, "mean_acc_test": round(float(np.mean([a[2] for a in accs])), 4),
        "threads": torch.get_num_threads(), "torch": torch.__version__, "run": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if ARGS.classifier == "linear":
        rec["dtype"] = ARGS.dtype
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
