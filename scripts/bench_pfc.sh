#!/usr/bin/env bash
# Partial FC at scale: per-rank memory and step times for 100k..2M classes at sample rate 1.0 and 0.1 (2 ranks, mbf), printed as a Markdown table with the ratios the sampling is judged by.
#
# Usage: scripts/bench_pfc.sh            (FACEFORGE=path/to/faceforge to use another binary)
# Knobs (environment): WORLD=2 ITERS=2 WARMUP=1 BATCH=64 DIM=512 BACKBONE=mbf (BACKBONE= : head alone) CLASSES="100000 500000 1000000 2000000"
# RATES="1.0 0.1". A configuration that fails (e.g. killed for memory) is shown as such in the table
# with the reason; the others still run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FACEFORGE="${FACEFORGE:-$ROOT/build/faceforge}"
WORLD="${WORLD:-2}"
ITERS="${ITERS:-2}"
WARMUP="${WARMUP:-1}"
BATCH="${BATCH:-64}"
DIM="${DIM:-512}"
BACKBONE="${BACKBONE-mbf}"  # set but empty: the classifier alone
CLASSES="${CLASSES:-100000 500000 1000000 2000000}"
RATES="${RATES:-1.0 0.1}"
PYTHON="${PYTHON:-/usr/bin/python3}"

[[ -x "$FACEFORGE" ]] || { echo "error: faceforge binary not found at $FACEFORGE (build it, or set FACEFORGE)" >&2; exit 1; }
[[ -x "$PYTHON" ]] || { echo "error: $PYTHON not found (the table is formatted with Python; set PYTHON)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench_pfc.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
JSON="$WORK/ranks.jsonl"      # one line per rank per configuration, written by faceforge
FAILED="$WORK/failed.tsv"     # classes <TAB> rate <TAB> backbone <TAB> reason, for runs that did not finish
: >"$JSON"
: >"$FAILED"

# If a configuration outgrows memory, the kernel should kill this benchmark's workers rather than
# anything else running here (they inherit this score).
echo 1000 >/proc/self/oom_score_adj 2>/dev/null || true

# One configuration: run_one CLASSES RATE BACKBONE ("" = head alone). Returns faceforge's exit status and
# records a failure's first error line in $FAILED.
run_one() {
  local classes="$1" rate="$2" backbone="$3" log="$WORK/run.log" status=0 start=$SECONDS
  echo "== $classes classes, sample rate $rate, $WORLD ranks, ${backbone:-head alone}, $BATCH images per rank" >&2
  "$FACEFORGE" bench pfc --classes "$classes" --dim "$DIM" --world "$WORLD" --sample-rate "$rate" \
    ${backbone:+--backbone "$backbone"} --batch "$BATCH" --iters "$ITERS" --warmup "$WARMUP" --json "$JSON" >"$log" 2>&1 ||
    status=$?
  cat "$log" >&2
  echo "   ($((SECONDS - start)) s, exit $status)" >&2
  if [[ $status -ne 0 ]]; then
    # The launcher's first error line names the worker that failed first; SIGKILL here is the OOM killer.
    local reason
    reason="$(grep -m1 -E 'error' "$log" | sed -e 's/^error: //' -e 's/ (pid [0-9]*)//' -e 's/was killed by signal 9 (SIGKILL)/killed by SIGKILL (out of memory)/' | tr '\t' ' ' || true)"
    printf '%s\t%s\t%s\t%s\n' "$classes" "$rate" "${backbone:-}" "${reason:-exit $status}" >>"$FAILED"
  fi
  return $status
}

# The machine's load when timing started and ended: other work on the same cores skews step times.
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for classes in $CLASSES; do
  for rate in $RATES; do
    # A configuration whose full step does not fit is measured again without the backbone, so its
    # classifier-only time and memory still appear (the ratios at sample rate 1.0 need them).
    if ! run_one "$classes" "$rate" "$BACKBONE" && [[ -n "$BACKBONE" ]]; then
      run_one "$classes" "$rate" "" || true
    fi
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

"$PYTHON" - "$JSON" "$FAILED" "$WORLD" "$BACKBONE" "$BATCH" "$DIM" "$ITERS" "$WARMUP" "$load_before" "$load_after" <<'PY'
import json
import sys

json_path, failed_path, world, backbone, batch, dim, iters, warmup, load_before, load_after = sys.argv[1:]
ranks = {}  # (classes, rate, backbone) -> the ranks' records
for line in open(json_path):
    line = line.strip()
    if line:
        r = json.loads(line)
        ranks.setdefault((r["classes"], float(r["sample_rate"]), r["backbone"]), []).append(r)
failed = {}  # (classes, rate, backbone) -> why it did not finish
for line in open(failed_path):
    classes, rate, what, reason = line.rstrip("\n").split("\t", 3)
    failed[(int(classes), float(rate), what)] = reason

def complete(key):
    rows = ranks.get(key)
    return rows if rows and len(rows) == int(world) else None

# Every rank's row has the same shape; times agree because the ranks meet at barriers, so the table
# shows the largest value over the ranks (the one that bounds a step or the machine's memory).
def worst(key, rows):
    return max(r[key] for r in rows)

print(f"Partial FC, {world} ranks x {batch} images, dim {dim}, backbone {backbone or 'none'}, arcface head, "
      f"{iters} timed steps after {warmup} warm-up; per rank, max over ranks. Step times are wall clock; "
      f"CPU ms is the rank process's CPU time per step (1 thread per rank on 2 cores).")
print()
print("| classes | sample rate | classes/rank | sampled/rank | centres MiB | logits MiB | peak RSS MiB | head step ms | full step ms | head CPU ms | full CPU ms | note |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
# What each configuration's numbers come from: the full run, else the head-alone retry.
measured = {}
for key in sorted({(c, r) for c, r, _ in list(ranks) + list(failed)}, key=lambda k: (k[0], -k[1])):
    classes, rate = key
    full, alone = (classes, rate, backbone), (classes, rate, "")
    rows, note = complete(full), ""
    if rows is None and backbone:
        note = f"with {backbone}: {failed.get(full, 'not every rank reported')}"
        rows = complete(alone)
        if rows is not None:
            note += f"; head alone measured instead"
        elif alone in failed:
            note += f"; head alone: {failed[alone]}"
    if rows is None:
        print(f"| {classes:,} | {rate:g} | | | | | | | | | | skipped: {note or failed.get(alone, 'not every rank reported')} |")
        continue
    measured[key] = rows
    full_ms = f"{worst('full_step_ms', rows):.0f}" if rows[0]["backbone"] else "n/a"
    full_cpu = f"{worst('full_step_cpu_ms', rows):.0f}" if rows[0]["backbone"] else "n/a"
    print(f"| {classes:,} | {rate:g} | {worst('local_classes', rows):,} | {worst('sampled', rows):,} | "
          f"{worst('centre_mib', rows):.0f} | {worst('logits_mib', rows):.1f} | {worst('peak_rss_mib', rows):.0f} | "
          f"{worst('head_step_ms', rows):.0f} | {full_ms} | {worst('head_step_cpu_ms', rows):.0f} | {full_cpu} | {note} |")

def value(classes, rate, key):
    rows = measured.get((classes, rate))
    if rows is None or (key.startswith("full_step") and not rows[0]["backbone"]):
        return None
    return worst(key, rows)

def ratio(name, num, den, target):
    if num is None or den is None or den == 0:
        print(f"- {name}: n/a (a configuration is missing)")
    else:
        r = num / den
        print(f"- {name}: {r:.3f} (target <= {target}) {'PASS' if r <= target else 'FAIL'}")

print()
ratio("head step at 1,000,000 classes, r=0.1 / r=1.0", value(1000000, 0.1, "head_step_ms"),
      value(1000000, 1.0, "head_step_ms"), 0.25)
ratio("logits memory at 1,000,000 classes, r=0.1 / r=1.0", value(1000000, 0.1, "logits_mib"),
      value(1000000, 1.0, "logits_mib"), 0.15)
ratio("full step r=0.1, 2,000,000 / 100,000 classes", value(2000000, 0.1, "full_step_ms"),
      value(100000, 0.1, "full_step_ms"), 1.5)
ratio("the same in CPU time (insensitive to other load on the machine)", value(2000000, 0.1, "full_step_cpu_ms"),
      value(100000, 0.1, "full_step_cpu_ms"), 1.5)
print()
print(f"Load average (1, 5, 15 min) before: {load_before}; after: {load_after}.")
PY
