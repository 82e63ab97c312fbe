"""What the PyTorch sides of `make bench` share (torch_bench.py, torch_q1.py): where the MNIST files
are and how many threads to use (standard library only, for the argument parsers that run before torch
is imported), reading the files, and the original study's MnistConvNet. numpy and torch are imported
inside the functions that need them, so that importing this module does not import torch before the
caller has set OPENBLAS_NUM_THREADS."""

import gzip
import os
import sys

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def default_data_dir():
    # Same rule as levlib's mnist.DefaultDataDir.
    if os.environ.get("LEVSTUDY_DATA"):
        return os.environ["LEVSTUDY_DATA"]
    if os.environ.get("XDG_DATA_HOME"):
        return os.path.join(os.environ["XDG_DATA_HOME"], "levstudy", "mnist")
    return os.path.join(os.path.expanduser("~"), ".local", "share", "levstudy", "mnist")


def default_threads():
    if os.environ.get("BENCH_THREADS"):
        return int(os.environ["BENCH_THREADS"])
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def read_idx(path):
    import numpy as np

    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    if magic >> 8 != 0x08:  # unsigned byte data
        raise ValueError(f"{path}: not an IDX ubyte file (magic {magic:#x})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(data_dir, prog):
    """Returns images uint8 [70000, 28, 28] (train then test) and labels int64 [70000]; exits with a
    message that starts with prog when a file is missing."""
    import numpy as np

    paths = {k: os.path.join(data_dir, v) for k, v in MNIST_FILES.items()}
    missing = [p for p in paths.values() if not os.path.isfile(p)]
    if missing:
        sys.exit(f"{prog}: MNIST files missing: " + ", ".join(missing)
                 + " (run `make data`, or set LEVSTUDY_DATA / --data to the folder that holds them)")
    images = np.concatenate([read_idx(paths["train_images"]), read_idx(paths["test_images"])])
    labels = np.concatenate([read_idx(paths["train_labels"]), read_idx(paths["test_labels"])]).astype(np.int64)
    return images, labels


def mnist_convnet():
    """The original study's MnistConvNet; model[:-1] is the 200-d embedding (after the ReLU)."""
    from torch import nn

    class Normalize(nn.Module):
        def __init__(self, mean, std):
            super().__init__()
            self.mean, self.std = mean, std

        def forward(self, x):
            return (x - self.mean) / self.std

    return nn.Sequential(
        Normalize(mean=0.1307, std=0.3081),
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3136, 200), nn.ReLU(),
        nn.Linear(200, 10),
    )


def to_input(images_u8):
    """Pixels / 255 as float32 [N, 1, 28, 28]."""
    import numpy as np
    import torch

    return torch.from_numpy(images_u8.astype(np.float32) / np.float32(255)).unsqueeze(1)
