// Verification-pack evaluation: embedding, pair cosines, and the standard metric set.
#include "src/eval/verification.h"

#include <filesystem>

#include "datasets/verification_bin.h"
#include "src/eval/embedder.h"
#include "src/eval/verification_metrics.h"
#include "src/util/error.h"

namespace ff::eval {

double VerificationReport::metric(const std::string& name) const {
  for (const auto& [key, value] : metrics)
    if (key == name) return value;
  fail("verification report for {} has no metric '{}'", target, name);
}

VerificationReport score_verification(const std::string& target, const std::vector<float>& scores,
                                      const std::vector<bool>& issame, double far) {
  VerificationReport report;
  report.target = target;
  report.pairs = issame.size();
  KFoldAccuracy folds = ten_fold_accuracy(std::span<const float>(scores), issame, 10);
  ThresholdAccuracy best = best_threshold(std::span<const float>(scores), issame);
  RocCurve roc = roc_curve(std::span<const float>(scores), issame);
  TarAtFar tar = tar_at_far(roc, far);
  EqualErrorRate eer = equal_error_rate(roc);
  report.metrics = {{"accuracy", folds.mean_accuracy},
                    {"accuracy_std", folds.std_accuracy},
                    {"best_threshold", best.threshold},
                    {"best_accuracy", best.accuracy},
                    {"tar_at_far", tar.tar},
                    {"far", far},
                    {"eer", eer.eer},
                    {"auc", roc_auc(std::span<const float>(scores), issame)}};
  return report;
}

VerificationReport evaluate_verification_pack(backbones::Backbone& backbone, const std::string& path,
                                              const EvalOptions& options) {
  datasets::VerificationPack pack = datasets::read_verification_bin(path);
  std::string target = std::filesystem::path(path).stem().string();
  at::Tensor features = embed_encoded(backbone, pack.images, {options.batch_size, options.flip}, path);
  at::Tensor pairs = features.reshape({static_cast<int64_t>(pack.pairs()), 2, features.size(1)});
  at::Tensor cosine = (pairs.select(1, 0) * pairs.select(1, 1)).sum(1).contiguous();
  std::vector<float> scores(cosine.data_ptr<float>(), cosine.data_ptr<float>() + cosine.numel());
  return score_verification(target, scores, pack.issame, options.far);
}

}  // namespace ff::eval
