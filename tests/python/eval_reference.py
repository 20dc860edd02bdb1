"""Independent NumPy computation of FaceForge's IJB and .bin figures from saved features.

Usage: eval_reference.py IJB_ROOT IJB_FEATURES.npy PACK.bin PACK_FEATURES.npy
Prints one JSON object: IJB 1:1 TAR@FAR and AUC, 1:N rank-1 and TPIR@FPIR averaged over
galleries, and the .bin best single-threshold accuracy. Written from PROTOCOLS.md's definitions,
not from FaceForge's code: templates = L2(sum over media of the media's mean feature).
"""
import csv
import json
import os
import pickle
import sys

import numpy as np


def read_rows(path):
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


def tar_at_far(genuine, impostor, far):
    # Lowest threshold t with #(impostor >= t) / len(impostor) <= far; above every impostor if none.
    allowed = far * len(impostor)
    best = None
    for t in np.unique(np.concatenate([genuine, impostor])):
        if (impostor >= t).sum() <= allowed + 1e-9:
            best = t
            break
    if best is None:
        return float((genuine > impostor.max()).mean())
    return float((genuine >= best).mean())


def auc(genuine, impostor):
    g = genuine[:, None]
    i = impostor[None, :]
    return float(((g > i).sum() + 0.5 * (g == i).sum()) / (len(genuine) * len(impostor)))


def main(root, ijb_features, pack, pack_features):
    meta = os.path.join(root, "meta")
    prefix = "ijbc" if os.path.exists(os.path.join(meta, "ijbc_face_tid_mid.txt")) else "ijbb"
    rows = read_rows(os.path.join(meta, prefix + "_face_tid_mid.txt"))
    feats = np.load(ijb_features).astype(np.float64)
    assert feats.shape[0] == len(rows)
    media = {}
    for (name, tid, mid), f in zip(rows, feats):
        media.setdefault((int(tid), int(mid)), []).append(f)
    templates = {}
    for (tid, mid), fs in media.items():
        templates[tid] = templates.get(tid, 0) + np.mean(fs, axis=0)
    templates = {t: v / np.linalg.norm(v) for t, v in templates.items()}
    pairs = read_rows(os.path.join(meta, prefix + "_template_pair_label.txt"))
    scores = np.array([templates[int(a)] @ templates[int(b)] for a, b, _ in pairs], dtype=np.float32)
    labels = np.array([int(l) for _, _, l in pairs]) == 1
    out = {"tar@far=1e-1": tar_at_far(scores[labels], scores[~labels], 0.1),
           "tar@far=1e-2": tar_at_far(scores[labels], scores[~labels], 0.01),
           "auc": auc(scores[labels], scores[~labels])}

    def read_list(name):
        with open(os.path.join(meta, name)) as f:
            r = list(csv.reader(f))
        col_t, col_s = r[0].index("TEMPLATE_ID"), r[0].index("SUBJECT_ID")
        seen = {}
        for row in r[1:]:
            seen.setdefault(int(row[col_t]), int(row[col_s]))
        return list(seen.items())

    galleries = sorted(n for n in os.listdir(meta) if n.startswith(prefix + "_1N_gallery_"))
    probes = read_list(prefix + "_1N_probe_mixed.csv")
    rank1, tpir = [], []
    for g in galleries:
        gallery = read_list(g)
        subjects = np.array([s for _, s in gallery])
        G = np.stack([templates[t] for t, _ in gallery])
        mated_hits, mated, nonmated_top, mated_rows = 0, 0, [], []
        for t, s in probes:
            row = (G @ templates[t]).astype(np.float32)
            if s in subjects:
                mated += 1
                mate = row[subjects == s].max()
                others = row[subjects != s]
                is_rank1 = not (others >= mate).any()
                mated_hits += is_rank1
                mated_rows.append((is_rank1, mate))
            else:
                nonmated_top.append(row.max())
        rank1.append(mated_hits / mated)
        # NIST: the lowest real threshold with FPIR <= 0.1. Over the non-mated top scores u_0 < u_1 ...
        # that is u_0 when everything may pass, else just above the highest u_k that must be cut.
        u = np.unique(np.array(nonmated_top))
        passing = [k for k in range(len(u)) if (np.array(nonmated_top) >= u[k]).sum() <= 0.1 * len(nonmated_top) + 1e-9]
        if passing and passing[0] == 0:
            hits = sum(1 for r1, m in mated_rows if r1 and m >= u[0])
        else:
            cut = u[passing[0] - 1] if passing else u[-1]
            hits = sum(1 for r1, m in mated_rows if r1 and m > cut)
        tpir.append(hits / mated)
    out["rank1"] = float(np.mean(rank1))
    out["tpir@fpir=1e-1"] = float(np.mean(tpir))

    with open(pack, "rb") as f:
        bins, issame = pickle.load(f, encoding="bytes")
    pf = np.load(pack_features).astype(np.float64)
    pf /= np.linalg.norm(pf, axis=1, keepdims=True)
    cos = (pf[0::2] * pf[1::2]).sum(1).astype(np.float32)
    same = np.array(issame, dtype=bool)
    best = 0.0
    for t in np.unique(cos):
        best = max(best, ((cos >= t) == same).mean())
    best = max(best, (~same).mean())  # reject everything
    out["best_accuracy"] = float(best)
    print(json.dumps(out))


if __name__ == "__main__":
    main(*sys.argv[1:5])
