#!/usr/bin/python3
"""PyTorch CPU side of `make bench`: the seed's leverage QR and the original study's MnistConvNet.

Run with Debian's interpreter (python3-torch, python3-numpy; scripts/install-bench-deps.sh installs them):

    /usr/bin/python3 scripts/bench/torch_bench.py [--repeat 3] [--rows N] [--train-images N] [--embed-images N]

Prints one JSON object per line on stdout (progress and notes on stderr):

    {"name": "leverage_qr_f32", "seconds": 2.01, "seconds_min": 1.98, "images_per_s": null, "threads": 2, ...}

seconds is the median of the --repeat timed runs, seconds_min their minimum, all_seconds every timed run
(scripts/benchtable pools these over several invocations); images_per_s = images / seconds.

Workloads (MNIST: train then test images, 70,000 rows, pixels / 255):
  leverage_qr_f32  Q, _ = torch.linalg.qr(X); lev = (Q**2).sum(1), X float32 rows x 784 (the seed notebook)
  leverage_qr_f64  the same in float64 (for information)
  cnn_train        one epoch of MnistConvNet on the first --train-images training images, batch 64, Adam
                   lr 1e-3, cross-entropy on the logits, shuffled with a fixed seed
  cnn_embed        the 200-d embedding (ReLU after Linear(3136, 200)) of --embed-images images under
                   torch.no_grad(); the batch size is the fastest of --embed-batches on a short scan

Threads: --threads, else $BENCH_THREADS, else the CPUs this process may run on. The same number is given
to torch.set_num_threads and, through OPENBLAS_NUM_THREADS (set before torch is imported unless already
set), to OpenBLAS, which runs Debian's torch.linalg.qr when libopenblas0 is installed.
"""
import argparse
import json
import os
import statistics
import sys
import time

from torchmnist import default_data_dir, default_threads, load_mnist, mnist_convnet, to_input


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=default_data_dir(), help="folder with the four MNIST .gz files (default %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per workload (default %(default)s)")
    p.add_argument("--threads", type=int, default=default_threads(), help="torch threads (default $BENCH_THREADS or the CPU count: %(default)s)")
    p.add_argument("--rows", type=int, default=70000, help="rows of X for the leverage QR (default %(default)s)")
    p.add_argument("--train-images", type=int, default=6000, help="images of the training epoch (default %(default)s)")
    p.add_argument("--embed-images", type=int, default=70000, help="images embedded (default %(default)s)")
    p.add_argument("--embed-batches", default="1000,100,250,500",
                   help="batch sizes tried for cnn_embed, the first one being the reference (default %(default)s)")
    p.add_argument("--scan-images", type=int, default=5000,
                   help="images per batch size in the cnn_embed batch scan (default %(default)s)")
    p.add_argument("--only", default="", help="comma-separated workloads to run (default: all)")
    a = p.parse_args()
    if a.repeat < 1 or a.threads < 1 or a.rows < 1 or a.train_images < 1 or a.embed_images < 1:
        p.error("--repeat, --threads, --rows, --train-images and --embed-images must be positive")
    return a


ARGS = parse_args()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def log(*a):
    print("torch_bench:", *a, file=sys.stderr, flush=True)


def blas_library():
    """The BLAS/LAPACK shared objects this process has mapped (Debian's torch links libblas.so.3 /
    liblapack.so.3, which the alternatives system points at reference BLAS or OpenBLAS)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path)
                if any(s in base for s in ("blas", "lapack", "mkl_")):
                    libs.add(os.path.realpath(path))
    except OSError:
        return "unknown"
    return ", ".join(sorted(libs)) or "none mapped"


def blas_kind(libs):
    low = libs.lower()
    if "openblas" in low:
        return "openblas"
    if "mkl" in low:
        return "mkl"
    if "blis" in low:
        return "blis"
    if "/blas/libblas.so" in low or "/lapack/liblapack.so" in low:
        return "reference"
    return "unknown"


def timed(fn, repeat):
    out = []
    for i in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
        log(f"  run {i + 1}/{repeat}: {out[-1]:.3f} s")
    return out


COMMON = {}


def emit(name, seconds, images, detail, **extra):
    med = statistics.median(seconds)
    rec = {
        "name": name,
        "seconds": round(med, 6),
        "seconds_min": round(min(seconds), 6),
        "images_per_s": round(images / med, 3) if images else None,
        "images": images,
        "all_seconds": [round(s, 6) for s in seconds],
        **COMMON,
        "detail": detail,
        **extra,
    }
    print(json.dumps(rec), flush=True)
    log(f"{name}: median {med:.3f} s, min {min(seconds):.3f} s"
        + (f", {images / med:.1f} images/s" if images else "") + f" ({detail})")


def bench_leverage(images, dtype, name):
    n = min(ARGS.rows, images.shape[0])
    X = torch.from_numpy(images[:n].reshape(n, 784).astype(np.float32) / np.float32(255)).to(dtype)
    # Warm-up on a slice: loads LAPACK/BLAS code and starts their threads without a second full QR.
    Q, _ = torch.linalg.qr(X[: min(n, 2000)])
    (Q ** 2).sum(1)
    del Q
    lev = None

    def run():
        nonlocal lev
        Q, _ = torch.linalg.qr(X)
        lev = (Q ** 2).sum(1)

    log(f"{name}: {n}x784 {str(dtype).removeprefix('torch.')}")
    secs = timed(run, ARGS.repeat)
    emit(name, secs, None, f"{n}x784 {str(dtype).removeprefix('torch.')}, torch.linalg.qr reduced + row norms",
         sum_leverage=round(float(lev.double().sum()), 3))


def bench_train(images, labels):
    n = min(ARGS.train_images, 60000)
    x, y = to_input(images[:n]), torch.from_numpy(labels[:n])
    batch = 64

    def epoch(model, opt, gen, max_steps=None):
        loss_fn = nn.CrossEntropyLoss()
        perm = torch.randperm(n, generator=gen)
        model.train()
        last = None
        for step, i in enumerate(range(0, n, batch)):
            if max_steps is not None and step >= max_steps:
                break
            idx = perm[i:i + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            last = loss
        return float(last)

    def fresh():
        torch.manual_seed(0)
        model = mnist_convnet()
        return model, torch.optim.Adam(model.parameters(), lr=1e-3), torch.Generator().manual_seed(1)

    model, opt, gen = fresh()
    epoch(model, opt, gen, max_steps=5)  # warm-up (oneDNN primitives, allocator)
    losses = []
    secs = []
    log(f"cnn_train: {n} images, batch {batch}")
    for i in range(ARGS.repeat):
        model, opt, gen = fresh()  # every timed epoch starts from the same weights and order
        t0 = time.perf_counter()
        losses.append(epoch(model, opt, gen))
        secs.append(time.perf_counter() - t0)
        log(f"  run {i + 1}/{ARGS.repeat}: {secs[-1]:.3f} s, last-batch loss {losses[-1]:.4f}")
    emit("cnn_train", secs, n, f"1 epoch, {n} images, batch 64, Adam lr 1e-3, cross-entropy on logits",
         last_loss=round(losses[-1], 4))


def bench_embed(images):
    n = min(ARGS.embed_images, images.shape[0])
    x = to_input(images[:n])
    torch.manual_seed(0)
    embed = mnist_convnet()[:-1].eval()  # up to the ReLU after Linear(3136, 200)
    batches = [int(b) for b in ARGS.embed_batches.split(",") if b.strip()]

    def run(xs, b):
        with torch.no_grad():
            out = torch.empty(xs.shape[0], 200)
            for i in range(0, xs.shape[0], b):
                out[i:i + b] = embed(xs[i:i + b])
        return out

    run(x[: min(n, 2 * max(batches))], batches[0])  # warm-up
    scan = {}
    if len(batches) > 1:
        m = min(n, ARGS.scan_images)
        for b in batches:
            run(x[: min(m, b)], b)  # warm-up of this batch shape (oneDNN primitives)
            t0 = time.perf_counter()
            run(x[:m], b)
            scan[b] = m / (time.perf_counter() - t0)
            log(f"cnn_embed scan: batch {b}: {scan[b]:.1f} images/s on {m} images")
        best = max(scan, key=scan.get)
    else:
        best = batches[0]
    log(f"cnn_embed: {n} images, batch {best}")
    secs = timed(lambda: run(x, best), ARGS.repeat)
    emit("cnn_embed", secs, n, f"{n} images, batch {best} (fastest of {','.join(map(str, batches))}), no_grad",
         batch=best, scan_images_per_s={str(b): round(v, 1) for b, v in scan.items()})


def main():
    torch.set_num_threads(ARGS.threads)
    libs = blas_library()
    COMMON.update({
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "blas": blas_kind(libs),
        "run": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })
    log(f"threads {torch.get_num_threads()} (asked {ARGS.threads}), OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS')}, torch {torch.__version__}, numpy {np.__version__}, "
        f"mkldnn {torch.backends.mkldnn.is_available()}, mkl {torch.backends.mkl.is_available()}")
    log(f"BLAS/LAPACK mapped: {libs}")
    print(torch.__config__.show(), file=sys.stderr, flush=True)
    only = {s.strip() for s in ARGS.only.split(",") if s.strip()}
    known = {"leverage_qr_f32", "leverage_qr_f64", "cnn_train", "cnn_embed"}
    if only - known:
        sys.exit(f"torch_bench: unknown --only {sorted(only - known)}; known: {sorted(known)}")
    want = lambda k: not only or k in only  # noqa: E731
    t0 = time.perf_counter()
    images, labels = load_mnist(ARGS.data, "torch_bench")
    log(f"MNIST from {ARGS.data}: {images.shape[0]} images ({time.perf_counter() - t0:.1f} s)")
    if want("leverage_qr_f32"):
        bench_leverage(images, torch.float32, "leverage_qr_f32")
    if want("leverage_qr_f64"):
        bench_leverage(images, torch.float64, "leverage_qr_f64")
    if want("cnn_train"):
        bench_train(images, labels)
    if want("cnn_embed"):
        bench_embed(images)
    log(f"done in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
