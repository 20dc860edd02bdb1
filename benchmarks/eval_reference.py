#!/usr/bin/python3
"""NumPy reference for `faceforge bench eval`: the same evaluation work on the arrays FaceForge wrote.

Written the way a careful NumPy user would (vectorised, no per-pair Python loop; insightface's own
IJB script loops over templates and takes minutes), on the same conventions as FaceForge so the
metrics can be compared:
  - templates: mean of each (template, media) group's image features, summed per template, L2-normalised
  - 1:1: cosine per template pair in chunks; TAR at the lowest threshold whose FAR <= target
  - 1:N: probe x gallery matrix; open set (NIST): threshold from non-mated top-1 scores, TPIR = mate
    at rank 1 and above it; CMC ranks 1, 5, 10 (ties count against the mate)
  - verification pack: cosines, 10-fold best-accuracy thresholds (exact, by sorting), AUC, EER at the
    nearest ROC point

Usage: benchmarks/eval_reference.py DATA_DIR   (meta.json + raw little-endian arrays)
Prints one JSON line: {"seconds": {stage: s}, "metrics": {...}, "numpy": version}
"""

import json
import os
import sys
import time

import numpy as np

IJB_FARS = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]


def load(d, name, dtype, rows=None):
    a = np.fromfile(os.path.join(d, name), dtype=dtype)
    return a.reshape(rows, -1) if rows is not None else a


def unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def tar_at(genuine_scores, impostor_desc, far):
    """TAR at the lowest threshold with FAR <= far: pairs scoring above the (k+1)-th impostor."""
    k = int(np.floor(far * len(impostor_desc) + 1e-9))
    if k >= len(impostor_desc):
        return 1.0
    return float(np.mean(genuine_scores > impostor_desc[k]))


def templates_of(features, template, media):
    key = template * (media.max() + 1) + media
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    counts = np.diff(np.r_[starts, len(sorted_key)])
    media_mean = np.add.reduceat(features[order], starts, axis=0) / counts[:, None]
    media_template = template[order][starts]
    tstarts = np.flatnonzero(np.r_[True, media_template[1:] != media_template[:-1]])
    return media_template[tstarts], unit(np.add.reduceat(media_mean, tstarts, axis=0))


def best_threshold(scores, labels):
    """Exact best-accuracy threshold (lowest on ties), midpoint between neighbouring scores."""
    order = np.argsort(scores, kind="stable")
    s, g = scores[order], labels[order]
    # Rejecting everything below position i: correct = impostors below + genuine at or above.
    impostors_below = np.r_[0, np.cumsum(~g)]
    genuine_above = np.r_[np.cumsum(g[::-1])[::-1], 0]
    correct = impostors_below + genuine_above
    valid = np.r_[True, s[1:] != s[:-1], True]  # never split tied scores
    correct = np.where(valid, correct, -1)
    i = int(np.argmax(correct))
    if i == 0:
        return s[0]
    if i == len(s):
        return np.nextafter(s[-1], np.inf)
    return (s[i - 1] + s[i]) / 2


def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    n, dim = meta["images"], meta["dim"]
    features = load(d, "image_features.f32", "<f4", n)
    template = load(d, "image_template.i64", "<i8")
    media = load(d, "image_media.i64", "<i8")
    pairs = load(d, "pairs.i64", "<i8", meta["pairs"])
    gallery = load(d, "gallery.f32", "<f4", meta["gallery"])
    probes = load(d, "probes.f32", "<f4", meta["probes"])
    gallery_subject = load(d, "gallery_subject.i64", "<i8")
    probe_subject = load(d, "probe_subject.i64", "<i8")
    verification = load(d, "verification.f32", "<f4", 2 * meta["verification_pairs"])
    verification_label = load(d, "verification_label.i64", "<i8").astype(bool)
    seconds, metrics = {}, {}

    start = time.perf_counter()
    ids, templates = templates_of(features, template, media)
    seconds["ijb_templates"] = time.perf_counter() - start

    start = time.perf_counter()
    r1, r2 = np.searchsorted(ids, pairs[:, 0]), np.searchsorted(ids, pairs[:, 1])
    scores = np.empty(len(pairs), np.float32)
    chunk = 1 << 18
    for s in range(0, len(pairs), chunk):
        e = min(s + chunk, len(pairs))
        scores[s:e] = np.einsum("ij,ij->i", templates[r1[s:e]], templates[r2[s:e]])
    seconds["ijb_pair_scores"] = time.perf_counter() - start

    start = time.perf_counter()
    genuine = pairs[:, 2].astype(bool)
    impostor_desc = np.sort(scores[~genuine])[::-1]
    for far in IJB_FARS:
        metrics["tar@far=%g" % far] = tar_at(scores[genuine], impostor_desc, far)
    seconds["ijb_tar_at_far"] = time.perf_counter() - start

    start = time.perf_counter()
    matrix = probes @ gallery.T
    top = matrix.max(axis=1)
    column = {s: i for i, s in enumerate(gallery_subject)}
    mated = np.array([s in column for s in probe_subject])
    mate_col = np.array([column[s] for s in probe_subject[mated]], dtype=np.int64)
    mate_score = matrix[np.flatnonzero(mated), mate_col]
    rank = (matrix[mated] >= mate_score[:, None]).sum(axis=1)  # the mate itself counts once
    nonmated_desc = np.sort(top[~mated])[::-1]
    for fpir in (1e-2, 1e-1):
        k = int(np.floor(fpir * len(nonmated_desc) + 1e-9))
        above = mate_score > nonmated_desc[k] if k < len(nonmated_desc) else np.ones_like(mate_score, bool)
        metrics["tpir@fpir=%g" % fpir] = float(np.mean((rank == 1) & above))
    for r in (1, 5, 10):
        metrics["rank%d" % r] = float(np.mean(rank <= r))
    seconds["ijb_1n"] = time.perf_counter() - start

    start = time.perf_counter()
    v = unit(verification).reshape(-1, 2, dim)
    cosine = np.einsum("ij,ij->i", v[:, 0], v[:, 1])
    folds = np.array_split(np.arange(len(cosine)), 10)
    accuracies = []
    for f in folds:
        train = np.setdiff1d(np.arange(len(cosine)), f)
        t = best_threshold(cosine[train], verification_label[train])
        accuracies.append(np.mean((cosine[f] >= t) == verification_label[f]))
    order = np.argsort(cosine)
    ranks = np.empty(len(cosine))
    ranks[order] = np.arange(1, len(cosine) + 1)
    _, inverse, counts = np.unique(cosine, return_inverse=True, return_counts=True)
    ranks = np.bincount(inverse, ranks)[inverse] / counts[inverse]  # mid-ranks for ties
    g, i = verification_label.sum(), (~verification_label).sum()
    auc = (ranks[verification_label].sum() - g * (g + 1) / 2) / (g * i)
    desc = np.argsort(-cosine, kind="stable")
    tpr = np.cumsum(verification_label[desc]) / g
    fpr = np.cumsum(~verification_label[desc]) / i
    crossing = int(np.argmin(np.abs((1 - tpr) - fpr)))
    eer = float(((1 - tpr[crossing]) + fpr[crossing]) / 2)  # nearest ROC point (FaceForge interpolates)
    seconds["verification"] = time.perf_counter() - start
    metrics["verification_accuracy"] = float(np.mean(accuracies))
    metrics["verification_auc"] = float(auc)
    metrics["verification_eer"] = eer
    seconds["ijb_1to1_from_templates"] = seconds["ijb_pair_scores"] + seconds["ijb_tar_at_far"]
    print(json.dumps({"seconds": seconds, "metrics": metrics, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
