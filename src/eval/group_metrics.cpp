// Group accuracy summary and fairness values, computed per group in the group's own pair order.
#include "src/eval/group_metrics.h"

#include <cmath>

#include "src/util/error.h"

namespace ff::eval {

FairnessOptions fairness_options(const EvalOptions& o) {
  FairnessOptions f;
  f.target_fmr = o.target_fmr;
  f.fdr_alpha = o.fdr_alpha;
  f.inequity_alpha = o.inequity_alpha;
  f.inequity_beta = o.inequity_beta;
  f.min_genuine = static_cast<size_t>(o.min_genuine);
  f.min_impostors = static_cast<size_t>(o.min_impostors);
  f.smoothing = o.smoothing == "add_half" ? Smoothing::add_half : Smoothing::none;
  return f;
}

nlohmann::json to_json(const FairnessOptions& f, Spread group_spread) {
  return {{"target_fmr", f.target_fmr},       {"fdr_alpha", f.fdr_alpha},
          {"inequity_alpha", f.inequity_alpha}, {"inequity_beta", f.inequity_beta},
          {"min_genuine", f.min_genuine},     {"min_impostors", f.min_impostors},
          {"smoothing", smoothing_name(f.smoothing)}, {"group_spread", spread_name(group_spread)}};
}

namespace {

void add(GroupValues& out, const std::string& metric, double value, const std::string& group = "",
         const std::string& note = "") {
  if (std::isfinite(value)) {
    out.values.push_back({metric, value, group});
  } else {
    out.notes.push_back(fmt::format("{}{}: {}", metric, group.empty() ? "" : " (" + group + ")",
                                    note.empty() ? "undefined" : note));
  }
}

}  // namespace

GroupValues group_values(std::span<const float> scores, const std::vector<bool>& genuine, std::span<const int> group,
                         const std::vector<std::string>& names, const VerificationConventions& c,
                         const FairnessOptions& fairness, Spread group_spread) {
  GroupValues out;
  if (scores.size() != group.size() || scores.size() != genuine.size())
    fail("group metrics: {} scores, {} labels and {} group indices", scores.size(), genuine.size(), group.size());
  // Each group's own 10-fold accuracy, over its pairs in order.
  std::vector<GroupAccuracy> accuracies;
  for (size_t g = 0; g < names.size(); ++g) {
    std::vector<float> s;
    std::vector<bool> y;
    size_t positives = 0;
    for (size_t i = 0; i < scores.size(); ++i)
      if (group[i] == static_cast<int>(g)) {
        s.push_back(scores[i]);
        y.push_back(genuine[i]);
        positives += genuine[i];
      }
    if (s.size() < static_cast<size_t>(c.folds) || positives == 0 || positives == s.size()) {
      out.notes.push_back(fmt::format("accuracy ({}): {} pairs, {} genuine: a {}-fold accuracy needs at least {} pairs "
                                      "of both kinds",
                                      names[g], s.size(), positives, c.folds, c.folds));
      continue;
    }
    KFoldAccuracy k = ten_fold_accuracy(std::span<const float>(s), y, c.folds, c.rule);
    add(out, "accuracy", k.mean_accuracy, names[g]);
    add(out, c.standard_error ? "accuracy_se" : "accuracy_std", c.standard_error ? k.standard_error : k.std_accuracy,
        names[g]);
    accuracies.push_back({names[g], k.mean_accuracy, s.size()});
  }
  if (accuracies.size() >= 2) {
    AccuracySummary summary = summarize_group_accuracy(accuracies, {group_spread});
    add(out, "mean_accuracy", summary.mean_accuracy);
    add(out, "group_std", summary.std_accuracy);
    add(out, "ser", summary.ser, "", summary.ser_note);
    add(out, "trade_off", summary.trade_off);
  }
  FairnessReport r = demographic_fairness(scores, genuine, group, names, fairness);
  add(out, "fairness_threshold", r.threshold);
  add(out, "fmr", r.fmr);
  add(out, "fnmr", r.fnmr);
  for (const auto& g : r.groups) {
    add(out, "fmr", g.fmr, g.group, g.impostors == 0 ? "no impostor pairs" : "");
    add(out, "fnmr", g.fnmr, g.group, g.genuine == 0 ? "no genuine pairs" : "");
    if (!g.included) out.notes.push_back(fmt::format("{}: left out of FDR and inequity: {}", g.group, g.reason));
  }
  add(out, "fdr", r.fdr, "", r.fdr_note);
  add(out, "inequity", r.inequity_rate, "", r.inequity_note);
  add(out, "fmr_ratio", r.fmr_ratio, "", r.fmr_ratio_note);
  add(out, "fnmr_ratio", r.fnmr_ratio, "", r.fnmr_ratio_note);
  return out;
}

}  // namespace ff::eval
