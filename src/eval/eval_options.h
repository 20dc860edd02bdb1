// Evaluation options (`eval.*` keys): which targets to score, how to embed, and the conventions
// behind every number (threshold rule, spread, IJB N/D switches, fairness, FRUITS latency).
#pragma once
#include <string>
#include <vector>

namespace ff::config {
class Schema;
}

namespace ff::eval {

struct EvalOptions {
  // "[name=]PATH": an insightface .bin pack, an LFW folder (pairs.txt), a CALFW/CPLFW pair list
  // (.txt), an RFW root (test/txts) or an IJB-B/C root (meta/); see targets.h. Name defaults to the
  // file stem or folder name, lower-cased.
  std::vector<std::string> targets;
  // "name=FILE": five-point landmark list (datasets/alignment.h formats) for the images of an LFW or
  // CALFW/CPLFW target, which are then aligned; RFW and IJB carry their own.
  std::vector<std::string> landmarks;
  // "name=FILE": `<image> <group>` per line (image = path as in the pair list, or the 0-based image
  // index of a .bin pack) for the fairness view of a verification target; RFW's groups are its races.
  std::vector<std::string> groups;
  int every = 0;  // during training: also evaluate every N optimizer steps (0 = only at the end)
  // During training: "target/metric" whose best value (highest; lowest for error rates such as eer)
  // marks the best checkpoint; "" = the first target's accuracy, else its tar@far=1e-4, else rank1.
  std::string best;

  // Embedding.
  int batch_size = 64;
  std::string flip = "sum";     // none | sum (f(x) + f(mirror x), insightface) | concat ([f(x), f(mirror x)])
  std::string colour = "rgb";   // rgb | bgr: channel order the model expects
  double mean = 0.5;            // input = (x/255 - mean) / std
  double std = 0.5;
  std::string align = "auto";   // auto: align with landmarks when the target has them | never

  // Verification (10-fold) conventions.
  std::string threshold_rule = "best_accuracy";  // best_accuracy (insightface) | youden (FaceX-Zoo)
  std::string fold_spread = "std";               // std (population, insightface) | standard_error (FaceX-Zoo)

  // IJB switches (F is `flip` != none).
  bool ijb_normalize = false;        // N: L2-normalise each image feature before aggregating
  bool ijb_detector_weight = false;  // D: weight each image feature by its detector score

  // RFW and group fairness.
  std::string group_spread = "population";  // population | sample: STD over groups
  double target_fmr = 1e-3;
  double fdr_alpha = 0.5;
  double inequity_alpha = 0.5;
  double inequity_beta = 0.5;
  int min_genuine = 1;
  int min_impostors = 1;
  std::string smoothing = "none";  // none | add_half

  // FRUITS latency (model evaluations only).
  bool latency = false;
  int latency_images = 20;  // images timed per thread setting, after 2 warm-up images
};

void bind_schema(config::Schema& schema, EvalOptions& options);

}  // namespace ff::eval
