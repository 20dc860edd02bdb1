// Scores a verification pack (insightface .bin) with a backbone: embed every image (with flip
// fusion), cosine per pair, then 10-fold accuracy (insightface's best-accuracy threshold rule,
// population std), the best threshold over all pairs, TAR@FAR, EER and AUC.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "backbones/backbone.h"
#include "src/eval/eval_options.h"

namespace ff::eval {

struct VerificationReport {
  std::string target;  // pack name: file stem ("lfw" for lfw.bin)
  size_t pairs = 0;
  // (name, value) in a fixed order: accuracy, accuracy_std, best_threshold, best_accuracy,
  // tar_at_far, far, eer, auc. Accuracies and rates are fractions in [0, 1].
  std::vector<std::pair<std::string, double>> metrics;
  double metric(const std::string& name) const;
};

// Metrics from precomputed cosine scores (the part after embedding).
VerificationReport score_verification(const std::string& target, const std::vector<float>& scores,
                                      const std::vector<bool>& issame, double far);

VerificationReport evaluate_verification_pack(backbones::Backbone& backbone, const std::string& path,
                                              const EvalOptions& options);

}  // namespace ff::eval
