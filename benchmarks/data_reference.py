#!/usr/bin/python3
"""Images/s of the PyTorch data path over an MXNet RecordIO face pack, for comparison with FaceForge's loader.

This is what an arcface_torch user runs today (a Dataset over train.rec/train.idx
fed to torch.utils.data.DataLoader), without mxnet or torchvision and without
handicaps: two preads (frame header, payload) per record part, cv2.imdecode, RGB, random horizontal flip
(p = 0.5), float32 CHW normalised as (x/255 - 0.5)/0.5 with vectorised ops, label
as int64. Every process (main and each worker) runs torch and OpenCV on one thread,
so --workers W uses W decode cores, like FaceForge's W decode threads.

Image keys, chosen as FaceForge's RecordIO source chooses them so both time the same
images: key 0 is a header record when it holds array labels (flag > 0) and no image
bytes. Its first two labels (a, b) are the image keys [a, b) (FaceForge's format
notes), unless key a is itself such a label-only record (an identity record) or a >= 2
is not listed: that is the layout of insightface's released packs, whose images are
keys [1, a), the range arcface_torch reads. Without a header record every key in
train.idx is an image.

Prints one JSON line on stdout:

    {"images_per_second": ..., "images": ..., "seconds": ..., "workers": ..., "batch_size": ...,
     "torch": ..., "opencv": ...}

Usage:
    benchmarks/data_reference.py --rec data/pack --workers 2 --batch-size 128 --images 5000 --warmup-batches 3
"""

import argparse
import json
import os
import random
import re
import struct
import sys
import time

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

MAGIC = 0xCED7230A
MAGIC_BYTES = struct.pack("<I", MAGIC)
LENGTH_MASK = (1 << 29) - 1
IR_HEADER = struct.Struct("<IfQQ")  # flag, label, id, id2: 24 bytes, little-endian, no padding


class PackError(Exception):
    """A pack that cannot be read as the format says; the message names file, record and byte offset."""


def read_record(fd: int, path: str, key: int, offset: int) -> bytes:
    """The payload of the record at `offset`, its continuation parts joined with the magic they were split on."""
    parts = []
    position = offset
    while True:
        head = os.pread(fd, 8, position)
        if len(head) < 8:
            raise PackError(f"{path}: record {key} at byte {position}: file ends inside the 8-byte record header")
        magic, lrec = struct.unpack("<II", head)
        if magic != MAGIC:
            raise PackError(f"{path}: record {key} at byte {position}: magic 0x{magic:08x}, expected 0x{MAGIC:08x}")
        cflag, length = lrec >> 29, lrec & LENGTH_MASK
        data = os.pread(fd, length, position + 8)
        if len(data) < length:
            raise PackError(f"{path}: record {key} at byte {position}: payload of {length} bytes runs past the end of the file")
        if not parts and cflag not in (0, 1):
            raise PackError(f"{path}: record {key} at byte {position}: starts with continuation flag {cflag}, expected 0 or 1")
        if parts and cflag not in (2, 3):
            raise PackError(f"{path}: record {key} at byte {position}: continuation flag {cflag} inside a split record, expected 2 or 3")
        parts.append(data)
        if cflag in (0, 3):
            break
        position += 8 + ((length + 3) & ~3)  # parts are padded to 4 bytes
    return parts[0] if len(parts) == 1 else MAGIC_BYTES.join(parts)


def parse_payload(payload: bytes, path: str, key: int):
    """(flag, labels or the scalar label, byte offset of the image) of an IRHeader payload."""
    if len(payload) < IR_HEADER.size:
        raise PackError(f"{path}: record {key}: payload of {len(payload)} bytes, shorter than the 24-byte IRHeader")
    flag, label, _, _ = IR_HEADER.unpack_from(payload, 0)
    if flag == 0:
        return 0, label, IR_HEADER.size
    image_start = IR_HEADER.size + 4 * flag
    if len(payload) < image_start:
        raise PackError(f"{path}: record {key}: IRHeader says {flag} labels but the payload holds {len(payload)} bytes")
    return flag, np.frombuffer(payload, dtype="<f4", count=flag, offset=IR_HEADER.size), image_start


def resolve_pack(rec: str):
    """(train.rec, train.idx) paths for a .rec file or a directory holding both."""
    if os.path.isdir(rec):
        rec_path, idx_path = os.path.join(rec, "train.rec"), os.path.join(rec, "train.idx")
    else:
        rec_path, idx_path = rec, os.path.splitext(rec)[0] + ".idx"
        if rec_path == idx_path:
            raise PackError(f"--rec {rec}: expected a .rec file (its .idx beside it) or a directory holding train.rec and train.idx")
    for path in (rec_path, idx_path):
        if not os.path.isfile(path):
            raise PackError(f"{path}: no such file (from --rec {rec})")
    return rec_path, idx_path


def read_index(idx_path: str):
    """Keys and byte offsets of train.idx as int64 arrays, in file order."""
    keys, offsets = [], []
    with open(idx_path, "r", encoding="ascii", errors="replace") as f:
        for line_number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise PackError(f"{idx_path}:{line_number}: {line.strip()!r}, expected 'key<TAB>byte_offset'")
            try:
                keys.append(int(fields[0]))
                offsets.append(int(fields[1]))
            except ValueError:
                raise PackError(f"{idx_path}:{line_number}: {line.strip()!r}, expected two integers") from None
    if not keys:
        raise PackError(f"{idx_path}: no records listed")
    return np.array(keys, dtype=np.int64), np.array(offsets, dtype=np.int64)


class RecordFaceDataset(Dataset):
    """(image, label) pairs of a RecordIO face pack; the .rec file is opened lazily in the process that reads it."""

    def __init__(self, rec_path: str, idx_path: str):
        self.rec_path = rec_path
        keys, offsets = read_index(idx_path)
        size = os.path.getsize(rec_path)
        beyond = np.flatnonzero((offsets < 0) | (offsets + 8 > size))
        if beyond.size:
            i = beyond[0]
            raise PackError(f"{idx_path}: key {keys[i]} at byte {offsets[i]} lies outside {rec_path} ({size} bytes)")
        order = np.argsort(keys, kind="stable")
        self._sorted_keys, self._sorted_offsets = keys[order], offsets[order]
        self.keys = self._image_keys(keys)
        self.offsets = self._offsets_of(self.keys, idx_path)
        self._fd = None
        self._fd_pid = None

    def _offset_of(self, key: int):
        i = np.searchsorted(self._sorted_keys, key)
        return int(self._sorted_offsets[i]) if i < len(self._sorted_keys) and self._sorted_keys[i] == key else None

    def _offsets_of(self, wanted: np.ndarray, idx_path: str) -> np.ndarray:
        where = np.searchsorted(self._sorted_keys, wanted)
        where = np.minimum(where, len(self._sorted_keys) - 1)
        missing = np.flatnonzero(self._sorted_keys[where] != wanted)
        if missing.size:
            raise PackError(f"{idx_path}: image key {wanted[missing[0]]} is not listed ({missing.size} image keys missing)")
        return self._sorted_offsets[where]

    def _is_label_only(self, fd: int, key: int, offset: int):
        """(is a header or identity record: array labels and no image bytes, its labels)."""
        payload = read_record(fd, self.rec_path, key, offset)
        flag, labels, image_start = parse_payload(payload, self.rec_path, key)
        return flag > 0 and image_start == len(payload), labels

    def _image_keys(self, keys: np.ndarray) -> np.ndarray:
        offset0 = self._offset_of(0)
        if offset0 is None:
            return keys
        # Read the candidate header records with a short-lived handle: workers must not inherit one.
        fd = os.open(self.rec_path, os.O_RDONLY)
        try:
            is_header, labels = self._is_label_only(fd, 0, offset0)
            if not is_header:
                return keys  # key 0 is an image: every key is
            a = float(labels[0])
            b = float(labels[1]) if len(labels) >= 2 else 0.0
            if not (np.isfinite(a) and a >= 1 and a == int(a)):
                raise PackError(f"{self.rec_path}: header record (key 0): first label {a} is not a record key (an integer >= 1)")
            first = int(a)
            offset_a = self._offset_of(first)
            if (offset_a is not None and self._is_label_only(fd, first, offset_a)[0]) or (first >= 2 and offset_a is None):
                return np.arange(1, first, dtype=np.int64)  # insightface: [a, b) are identity records, images 1..a-1
        finally:
            os.close(fd)
        if not (np.isfinite(b) and b > a and b == int(b)):
            raise PackError(f"{self.rec_path}: header record (key 0): labels [{a}, {b}) name no image keys (expected "
                            f"insightface's [end of images, end of identity records) or [first image key, end key))")
        return np.arange(first, int(b), dtype=np.int64)

    def __len__(self):
        return len(self.keys)

    def __getstate__(self):
        # A spawned worker opens its own handle; never pickle this process's descriptor.
        state = self.__dict__.copy()
        state["_fd"], state["_fd_pid"] = None, None
        return state

    def __getitem__(self, index):
        if self._fd is None or self._fd_pid != os.getpid():
            self._fd, self._fd_pid = os.open(self.rec_path, os.O_RDONLY), os.getpid()
        key, offset = int(self.keys[index]), int(self.offsets[index])
        payload = read_record(self._fd, self.rec_path, key, offset)
        flag, label, image_start = parse_payload(payload, self.rec_path, key)
        if flag > 0:
            label = label[0]
        bgr = cv2.imdecode(np.frombuffer(payload, dtype=np.uint8, offset=image_start), cv2.IMREAD_COLOR)
        if bgr is None:
            raise PackError(f"{self.rec_path}: record {key} at byte {offset}: "
                            f"{len(payload) - image_start} image bytes that OpenCV cannot decode")
        # RGB and the flip are views (channel axis and width axis reversed); the one copy below
        # writes contiguous float32 CHW, bit-identical to cvtColor + flip + ToTensor + Normalize.
        rgb = bgr[:, ::-1, ::-1] if torch.rand(1).item() < 0.5 else bgr[:, :, ::-1]
        image = rgb.transpose(2, 0, 1).astype(np.float32, order="C")
        image /= 255.0
        image -= 0.5
        image /= 0.5
        return torch.from_numpy(image), int(label)


def single_thread_worker(_worker_id: int) -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        print(f"data_reference.py: {message}", file=sys.stderr)
        sys.exit(1)


def one_line(error: Exception) -> str:
    """The error's message on one line; a worker's error arrives wrapped in its traceback, whose last line holds it."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0].strip() if lines else type(error).__name__
    return re.sub(r"^[\w.]+: ", "", lines[-1].strip(), count=1)


def endless(loader):
    """Batches of successive epochs; persistent workers carry over from one epoch to the next."""
    while True:
        produced = 0
        for batch in loader:
            produced += 1
            yield batch
        if produced == 0:
            raise PackError("an epoch produced no batch")


def main() -> int:
    parser = OneLineParser(description="Images/s of the PyTorch DataLoader over a RecordIO face pack.")
    parser.add_argument("--rec", required=True, help="train.rec, or a directory holding train.rec and train.idx")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (0: decode in this process)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--images", type=int, default=5000, help="images to time after the warm-up batches")
    parser.add_argument("--warmup-batches", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.workers < 0 or args.batch_size < 1 or args.images < 1 or args.warmup_batches < 0:
        parser.error("need --workers >= 0, --batch-size >= 1, --images >= 1, --warmup-batches >= 0")

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    torch.manual_seed(args.seed)  # drives the shuffle and each worker's seed
    random.seed(args.seed)
    np.random.seed(args.seed % 2**32)

    try:
        dataset = RecordFaceDataset(*resolve_pack(args.rec))
        if len(dataset) < args.batch_size:
            raise PackError(f"{args.rec}: {len(dataset)} images, fewer than one batch of {args.batch_size}")
        loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
                            drop_last=True, persistent_workers=args.workers > 0,
                            worker_init_fn=single_thread_worker if args.workers > 0 else None)
        batches = endless(loader)
        for _ in range(args.warmup_batches):
            next(batches)
        timed_batches = -(-args.images // args.batch_size)
        images = 0
        start = time.perf_counter()
        for _ in range(timed_batches):
            images += len(next(batches)[0])
        seconds = time.perf_counter() - start
        batches.close()
        del batches, loader  # stop the workers before the result line, so nothing follows it
    except Exception as e:  # noqa: BLE001 - reported as one line, whatever raised it
        print(f"data_reference.py: {one_line(e)}", file=sys.stderr)
        return 1

    print(json.dumps({
        "images_per_second": round(images / seconds, 3),
        "images": images,
        "seconds": round(seconds, 6),
        "workers": args.workers,
        "batch_size": args.batch_size,
        "torch": torch.__version__,
        "opencv": cv2.__version__,
    }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
