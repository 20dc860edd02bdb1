#!/usr/bin/python3
"""CPU throughput of the PyTorch reference backbones, for comparison with FaceForge's C++ ones.

Measures images/s of inference (eval mode, no_grad) and of a training step's
forward + backward (train mode, loss = embeddings.square().mean(), no optimizer
step) on random normal 112x112 input, and prints one JSON line:

    {"backbone": ..., "batch": ..., "threads": ..., "forward_images_per_s": ...,
     "train_images_per_s": ..., "torch": ...}

Usage:
    benchmarks/torch_reference.py --backbone mbf --batch 8 --iters 10 --warmup 2 --threads 2
"""

import argparse
import json
import os
import sys
import time

import torch

# The reference models live with the tests; resolve them relative to this file so
# the script works from any working directory.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
import reference_backbones  # noqa: E402


def images_per_second(step, batch: int, iters: int, warmup: int) -> float:
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(iters):
        step()
    return batch * iters / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description="CPU throughput of a reference backbone.")
    parser.add_argument("--backbone", required=True, choices=reference_backbones.NAMES)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # Training-mode BatchNorm needs more than one value per channel after pooling.
    if args.batch < 2:
        parser.error("--batch must be at least 2 (training-mode BatchNorm1d)")
    if args.iters < 1 or args.warmup < 0:
        parser.error("--iters must be >= 1 and --warmup >= 0")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = reference_backbones.build(args.backbone)
    images = torch.randn(args.batch, 3, reference_backbones.IMAGE_SIZE, reference_backbones.IMAGE_SIZE)

    model.eval()

    def forward():
        with torch.no_grad():
            model(images)

    forward_rate = images_per_second(forward, args.batch, args.iters, args.warmup)

    model.train()

    def train_step():
        model.zero_grad(set_to_none=True)
        model(images).square().mean().backward()

    train_rate = images_per_second(train_step, args.batch, args.iters, args.warmup)

    print(json.dumps({
        "backbone": args.backbone,
        "batch": args.batch,
        "threads": args.threads,
        "forward_images_per_s": round(forward_rate, 3),
        "train_images_per_s": round(train_rate, 3),
        "torch": torch.__version__,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
