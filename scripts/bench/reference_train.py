#!/usr/bin/python3
"""The training step of `faceforge bench train`, in Python PyTorch: the reference it is compared with.

Same backbone architecture (tests/python/reference_backbones.py), same margin head (ArcFace
s=64 m=0.5 with insightface's linear fallback, or CosFace s=64 m=0.5), a full classifier of
`--classes` centres N(0, 0.01), SGD lr 0.1 momentum 0.9 weight decay 5e-4 on backbone and centres,
one fixed in-memory batch of random 112x112 images (arcface_torch's synthetic dataset). With
--device cuda --fp16 the backbone runs under torch.autocast(float16) (the whole network, so if
anything a little more fp16 than arcface_torch's body-only region) and a GradScaler scales the loss,
as arcface_torch trains. Prints one JSON line: {"images_per_s", "step_ms", "peak_rss_mib",
"peak_device_mib", "torch", ...}.

Run-time settings mirror FaceForge's own, so that the comparison measures the implementations, not the set-up:
- threads: by default every usable core, as `faceforge bench train` (ff::cores()); Debian's torch 1.13
  defaults to 1 intra-op thread on the 2-core reference VM. OpenBLAS, when it is the BLAS torch loaded,
  gets the same count (ff::set_compute_threads);
- glibc malloc keeps large tensors in its heap instead of mmap/munmap per allocation
  (M_MMAP_THRESHOLD = 1 GiB, M_TRIM_THRESHOLD = never, ff::tune_allocator); without it every step
  page-faults its ~100-200 MB activations afresh (r18: 3.8 -> 5.6 images/s on 2 cores); huge pages
  (glibc.malloc.hugetlb=1 in GLIBC_TUNABLES) come from the environment FaceForge and compare_train.sh
  set, and are reported as huge_pages;
- memory format: --channels-last auto (the default) is FaceForge's per-network default
  (model.channels_last=auto): NHWC for MobileFaceNet, NCHW for the rest. In NCHW oneDNN reorders every
  conv's input and output to its blocked layout and runs mbf's groups=64 conv through its gemm path
  (mbf: 14 -> 17 images/s on 2 cores).

Usage: scripts/bench/reference_train.py --backbone mbf --batch 64 --steps 10 --warmup 2 --threads 2
"""

import argparse
import contextlib
import ctypes
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "python"))
import reference_backbones  # noqa: E402


def tune_allocator() -> bool:
    """glibc mallopt(M_MMAP_THRESHOLD, 1 GiB) and mallopt(M_TRIM_THRESHOLD, -1: never), as ff::tune_allocator()."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 1 << 30)) and bool(libc.mallopt(m_trim_threshold, -1))


def huge_pages_in_use() -> bool:
    """Whether glibc malloc runs with glibc.malloc.hugetlb=1 under a THP mode that allows it, as
    ff::huge_pages_in_use() (FaceForge sets the tunable; a reference it starts inherits it)."""
    if "glibc.malloc.hugetlb=1" not in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


def set_blas_threads(threads: int) -> bool:
    """openblas_set_num_threads(threads) when torch loaded OpenBLAS, as ff::set_compute_threads()."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line and "/" in line}
    for path in sorted(paths):
        try:
            getattr(ctypes.CDLL(path), "openblas_set_num_threads")(threads)
            return True
        except (OSError, AttributeError):
            continue
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description="PyTorch training-step throughput (reference for bench train).")
    parser.add_argument("--backbone", required=True, choices=reference_backbones.NAMES)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--classes", type=int, default=10000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--head", default="arcface", choices=["arcface", "cosface"])
    parser.add_argument("--sample-rate", type=float, default=1.0)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--fp16", action="store_true", help="autocast float16 and loss scaling (CUDA)")
    parser.add_argument("--channels-last", default="auto", choices=["auto", "true", "false"],
                        help="NHWC weights and input; auto = FaceForge's default (mbf NHWC, IResNet NCHW)")
    parser.add_argument("--no-tune-allocator", action="store_true",
                        help="leave glibc malloc's mmap and trim thresholds at their defaults")
    args = parser.parse_args()
    if args.fp16 and args.device != "cuda":
        parser.error("--fp16 needs --device cuda")
    if args.sample_rate != 1.0:
        parser.error("the reference has a full classifier only: --sample-rate must be 1")
    if args.batch < 2 or args.steps < 1 or args.warmup < 0:
        parser.error("--batch >= 2, --steps >= 1 and --warmup >= 0 are needed")

    allocator_tuned = not args.no_tune_allocator and tune_allocator()
    torch.set_num_threads(args.threads)
    blas_threads_set = set_blas_threads(args.threads)
    channels_last = (args.channels_last == "true" or
                     (args.channels_last == "auto" and args.backbone in ("mbf", "mbf_large")))
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    model = reference_backbones.build(args.backbone).to(device=device, memory_format=memory_format)
    model.train()
    with torch.no_grad():
        dim = model(torch.randn(2, 3, reference_backbones.IMAGE_SIZE, reference_backbones.IMAGE_SIZE,
                                device=device)).shape[1]
    weight = torch.nn.Parameter(torch.empty(args.classes, dim, device=device).normal_(0, 0.01))
    optimizer = torch.optim.SGD(list(model.parameters()) + [weight], lr=0.1, momentum=0.9, weight_decay=5e-4)
    images = torch.randn(args.batch, 3, reference_backbones.IMAGE_SIZE, reference_backbones.IMAGE_SIZE, device=device)
    images = images.contiguous(memory_format=memory_format)
    labels = torch.randint(args.classes, (args.batch,), device=device)
    scaler = torch.cuda.amp.GradScaler(enabled=args.fp16)
    s, m = 64.0, 0.5
    cos_m, sin_m, threshold, fallback = math.cos(m), math.sin(m), math.cos(math.pi - m), m * math.sin(math.pi - m)

    def step():
        optimizer.zero_grad(set_to_none=True)
        # 1.13's CPU autocast refuses float16 even when disabled: no context at all without --fp16.
        with torch.autocast(device_type="cuda", dtype=torch.float16) if args.fp16 else contextlib.nullcontext():
            embeddings = model(images)
        cosine = F.linear(F.normalize(embeddings.float()), F.normalize(weight))
        cos_y = cosine.gather(1, labels[:, None]).clamp(-1, 1)
        if args.head == "arcface":
            sin_y = (1 - cos_y * cos_y).clamp_min(0).sqrt()
            target = torch.where(cos_y > threshold, cos_y * cos_m - sin_y * sin_m, cos_y - fallback)
        else:
            target = cos_y - m
        logits = cosine.scatter(1, labels[:, None], target) * s
        scaler.scale(F.cross_entropy(logits, labels)).backward()
        scaler.step(optimizer)
        scaler.update()

    def wait():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    wait()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    wait()
    seconds = time.perf_counter() - start
    print(json.dumps({"backbone": args.backbone, "batch": args.batch, "classes": args.classes, "head": args.head,
                      "threads": args.threads, "blas_threads_set": blas_threads_set, "channels_last": channels_last,
                      "allocator_tuned": allocator_tuned, "huge_pages": huge_pages_in_use(), "steps": args.steps,
                      "images_per_s": args.batch * args.steps / seconds,
                      "step_ms": 1000 * seconds / args.steps,
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                      "device": args.device, "fp16": args.fp16,
                      "peak_device_mib": torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else 0.0,
                      "torch": torch.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
