// One entry point for every protocol: a target (targets.h) and a feature source (model or .npy) in,
// results-store evaluations out, each carrying its protocol and the conventions behind its numbers.
#pragma once
#include <string>
#include <vector>

#include "src/eval/eval_options.h"
#include "src/eval/feature_source.h"
#include "src/eval/targets.h"
#include "src/store/results_store.h"

namespace ff::eval {

struct TargetResult {
  Target target;
  // One per protocol part, ready for ResultsStore::add_evaluation: "verification" (.bin, LFW,
  // CALFW/CPLFW; with eval.groups also per-group values), "rfw", "ijb_1to1", "ijb_1toN" (IJB trees
  // with 1:N files), "fruits" (eval.latency with a model).
  std::vector<store::Evaluation> evaluations;
  std::vector<std::string> lines;  // human-readable summary, one line per evaluation and note
  // The first value named `metric` for `group` across the evaluations; ff::Error when absent.
  double value(const std::string& metric, const std::string& group = "") const;
  bool has(const std::string& metric, const std::string& group = "") const;
};

// Evaluates one target. Protocols and their values:
//   bin / lfw / calfw  verification_values() (verification.h); with an eval.groups file for the
//                      target, group_values() too (per-group accuracy, FMR/FNMR, FDR, inequity)
//   rfw                per-race values and the fairness view (group_metrics.h), "accuracy" = the
//                      mean over races, plus eer / auc / tar@far / roc over all pairs
//   ijb                1:1: templates (N/D switches), tar@far=1e-6..1e-1 where supported, eer, auc,
//                      roc points; 1:N per gallery (group "G1"/"G2"...) and averaged:
//                      tpir@fpir=1e-2/1e-1, rank1/5/10
//   fruits             with eval.latency and a model: median and 90th-percentile per-image time of
//                      decode + alignment + embedding at batch 1, 1 thread and all threads
//                      (groups "1 thread", "all threads"), and meets_100ms/500ms/1000ms (1 or 0)
TargetResult evaluate_target(const Target& target, FeatureSource& features, const EvalOptions& options);

}  // namespace ff::eval
