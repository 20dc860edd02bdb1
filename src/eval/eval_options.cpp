// Binds EvalOptions to the `eval.*` configuration keys.
#include "src/eval/eval_options.h"

#include "src/config/schema.h"

namespace ff::eval {

void bind_schema(config::Schema& s, EvalOptions& o) {
  using config::Bounds;
  s.add("eval.targets", o.targets,
        "evaluation targets, \"[name=]PATH\": .bin pack, LFW folder, CALFW/CPLFW list, RFW root or IJB root");
  s.add("eval.landmarks", o.landmarks, "\"name=FILE\": landmarks that align an LFW or CALFW/CPLFW target's images");
  s.add("eval.groups", o.groups, "\"name=FILE\": image -> group lines for a verification target's fairness view");
  s.add("eval.every", o.every, "during training, also evaluate every N optimizer steps (0 = at the end only)",
        Bounds::at_least(0));
  s.add("eval.best", o.best,
        "during training, TARGET/METRIC whose best value marks the best checkpoint ('' = first target's accuracy)");
  s.add("eval.batch_size", o.batch_size, "images per embedding batch", Bounds::closed(1, 65536));
  s.add("eval.flip", o.flip, "flip test: none, sum (f(x) + f(mirror x)) or concat", {"none", "sum", "concat"});
  s.add("eval.colour", o.colour, "channel order the model expects", {"rgb", "bgr"});
  s.add("eval.mean", o.mean, "input normalisation: (x/255 - mean) / std", Bounds::closed(0, 1));
  s.add("eval.std", o.std, "input normalisation: (x/255 - mean) / std", Bounds::greater_than(0));
  s.add("eval.align", o.align, "align images with five-point landmarks when the target has them", {"auto", "never"});
  s.add("eval.threshold_rule", o.threshold_rule, "10-fold threshold: best_accuracy (insightface) or youden",
        {"best_accuracy", "youden"});
  s.add("eval.fold_spread", o.fold_spread, "spread over the 10 folds: std (population) or standard_error",
        {"std", "standard_error"});
  s.add("eval.ijb_normalize", o.ijb_normalize, "IJB N: L2-normalise image features before templates");
  s.add("eval.ijb_detector_weight", o.ijb_detector_weight, "IJB D: weight image features by detector score");
  s.add("eval.group_spread", o.group_spread, "STD over groups (RFW races)", {"population", "sample"});
  s.add("eval.target_fmr", o.target_fmr, "fairness: FMR of the one global threshold", Bounds::closed(1e-12, 1));
  s.add("eval.fdr_alpha", o.fdr_alpha, "fairness: FMR weight in FDR", Bounds::closed(0, 1));
  s.add("eval.inequity_alpha", o.inequity_alpha, "fairness: exponent of the FMR ratio", Bounds::at_least(0));
  s.add("eval.inequity_beta", o.inequity_beta, "fairness: exponent of the FNMR ratio", Bounds::at_least(0));
  s.add("eval.min_genuine", o.min_genuine, "fairness: genuine pairs a group needs to count", Bounds::at_least(1));
  s.add("eval.min_impostors", o.min_impostors, "fairness: impostor pairs a group needs to count", Bounds::at_least(1));
  s.add("eval.smoothing", o.smoothing, "fairness: zero-count smoothing of rates", {"none", "add_half"});
  s.add("eval.latency", o.latency, "FRUITS: time alignment + embedding per image (batch 1; 1 and all threads)");
  s.add("eval.latency_images", o.latency_images, "FRUITS: images timed per thread setting", Bounds::closed(1, 100000));
}

}  // namespace ff::eval
