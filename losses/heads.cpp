// Margin-head registry and the `loss.*` configuration keys.
#include <cmath>

#include "losses/adaface.h"
#include "losses/arcface.h"
#include "losses/combined.h"
#include "losses/cosface.h"
#include "losses/curricularface.h"
#include "losses/elasticface.h"
#include "losses/magface.h"
#include "losses/margin_head.h"
#include "losses/softmax.h"
#include "losses/sphereface.h"
#include "losses/subcenter_arcface.h"
#include "src/config/schema.h"
#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::losses {

std::vector<std::string> margin_head_names() {
  return {"softmax", "normface", "sphereface", "cosface", "arcface", "combined", "subcenter_arcface",
          "curricularface", "magface", "adaface", "elasticface", "triplet"};
}

namespace {

std::shared_ptr<MarginHead> build(const HeadOptions& o) {
  const bool straight = o.margin_gradient == "straight_through";
  auto arcface = ArcFaceOptions().scale(o.scale).margin(o.margin).easy_margin(o.easy_margin).straight_through(straight);
  if (o.head == "softmax") return std::make_shared<Softmax>();
  if (o.head == "normface") return std::make_shared<CosFace>(CosFaceOptions().scale(o.scale).margin(0.0));
  if (o.head == "sphereface") return std::make_shared<SphereFace>(o.scale, o.sphereface);
  if (o.head == "cosface") {
    if (o.margin >= 1) fail("loss.margin: cosface subtracts m from a cosine and needs m < 1, got {}", o.margin);
    return std::make_shared<CosFace>(CosFaceOptions().scale(o.scale).margin(o.margin));
  }
  if (o.head == "arcface") return std::make_shared<ArcFace>(arcface);
  if (o.head == "combined") {
    return std::make_shared<CombinedMargin>(CombinedMarginOptions()
                                                .scale(o.scale)
                                                .m1(o.combined.m1)
                                                .m2(o.combined.m2)
                                                .m3(o.combined.m3)
                                                .easy_margin(o.easy_margin)
                                                .straight_through(straight));
  }
  if (o.head == "subcenter_arcface") return std::make_shared<SubCenterArcFace>(arcface, o.subcenter.k);
  if (o.head == "curricularface") return std::make_shared<CurricularFace>(o.scale, o.margin, o.curricular_momentum);
  if (o.head == "magface") return std::make_shared<MagFace>(o.scale, o.magface);
  if (o.head == "adaface") return std::make_shared<AdaFace>(o.scale, o.margin, o.adaface);
  if (o.head == "elasticface") return std::make_shared<ElasticFace>(o.scale, o.margin, o.elastic_sigma);
  if (o.head == "triplet") fail("loss.head: triplet has no classifier head (the trainer uses the triplet loss alone)");
  fail("unknown margin head '{}': known heads are {}", o.head, join(margin_head_names(), ", "));
}

}  // namespace

std::shared_ptr<MarginHead> make_margin_head(const HeadOptions& o) {
  auto head = build(o);
  head->set_interclass_filtering_threshold(o.interclass_filtering_threshold);
  return head;
}

void bind_schema(config::Schema& s, HeadOptions& o) {
  using config::Bounds;
  s.add("loss.head", o.head, "margin head, or triplet (FaceNet) alone", margin_head_names());
  s.add("loss.scale", o.scale, "logit scale s (all heads but softmax)", Bounds::greater_than(0));
  s.add("loss.margin", o.margin,
        "margin m: angular in radians (arcface, subcenter_arcface, curricularface, adaface, elasticface) or on the "
        "cosine (cosface, < 1)",
        Bounds::half_open(0, M_PI / 2));
  s.add("loss.easy_margin", o.easy_margin, "arcface/combined/subcenter: keep cos θ when cos θ <= 0 instead of the linear fallback");
  s.add("loss.margin_gradient", o.margin_gradient,
        "exact derivative of the margin, or straight_through as arcface_torch (arcface, combined, subcenter)",
        {"exact", "straight_through"});
  s.add("loss.interclass_filtering_threshold", o.interclass_filtering_threshold,
        "zero non-target cosines above this before the margin (insightface's noisy-data filter; 0 = off)",
        Bounds::half_open(0, 1));
  s.add("loss.elastic_sigma", o.elastic_sigma, "elasticface: std of the per-sample margin", Bounds::at_least(0));
  s.add("loss.curricular_momentum", o.curricular_momentum, "curricularface: EMA rate of t", Bounds::half_open(1e-9, 1));
  s.add("loss.combined.m1", o.combined.m1, "combined: multiplicative angular margin", Bounds::at_least(1));
  s.add("loss.combined.m2", o.combined.m2, "combined: additive angular margin (radians)", Bounds::half_open(0, M_PI / 2));
  s.add("loss.combined.m3", o.combined.m3, "combined: additive cosine margin", Bounds::half_open(0, 1));
  s.add("loss.sphereface.m", o.sphereface.m, "sphereface: integer angular multiplier", Bounds::closed(1, 8));
  s.add("loss.sphereface.lambda_base", o.sphereface.lambda_base, "sphereface: λ at step 0", Bounds::at_least(0));
  s.add("loss.sphereface.lambda_gamma", o.sphereface.lambda_gamma, "sphereface: λ decay rate γ", Bounds::at_least(0));
  s.add("loss.sphereface.lambda_power", o.sphereface.lambda_power, "sphereface: λ decay power", Bounds::at_least(0));
  s.add("loss.sphereface.lambda_min", o.sphereface.lambda_min, "sphereface: λ floor", Bounds::at_least(0));
  s.add("loss.subcenter.k", o.subcenter.k, "subcenter_arcface: centres per class", Bounds::closed(1, 64));
  s.add("loss.subcenter.drop_epoch", o.subcenter.drop_epoch,
        "subcenter_arcface: from this epoch only each class's dominant centre counts (0 = never)", Bounds::at_least(0));
  s.add("loss.magface.lower_norm", o.magface.lower_norm, "magface: l_a", Bounds::greater_than(0));
  s.add("loss.magface.upper_norm", o.magface.upper_norm, "magface: u_a", Bounds::greater_than(0));
  s.add("loss.magface.lower_margin", o.magface.lower_margin, "magface: l_m", Bounds::half_open(0, M_PI / 2));
  s.add("loss.magface.upper_margin", o.magface.upper_margin, "magface: u_m", Bounds::half_open(0, M_PI / 2));
  s.add("loss.magface.lambda_g", o.magface.lambda_g, "magface: weight of the norm regulariser g(a)", Bounds::at_least(0));
  s.add("loss.adaface.h", o.adaface.h, "adaface: concentration h of the normalised norm", Bounds::greater_than(0));
  s.add("loss.adaface.momentum", o.adaface.momentum, "adaface: EMA rate of the norm statistics", Bounds::half_open(1e-9, 1));
  s.add("loss.triplet.mining", o.triplet.mining, "triplet: mining strategy", {"batch_all", "batch_hard", "semi_hard"});
  s.add("loss.triplet.margin", o.triplet.margin, "triplet: margin α on squared L2 distances", Bounds::greater_than(0));
  s.add("loss.partial_fc.sample_rate", o.partial_fc.sample_rate,
        "Partial FC: share of each rank's classes in a step's softmax (every positive kept; 1 = all)",
        Bounds{0, 1, true, false});
  s.add("loss.partial_fc.sparse_update", o.partial_fc.sparse_update,
        "Partial FC: only sampled centres and their momentum change per step (false: momentum and weight decay touch every "
        "centre, as insightface's v2)");
  s.add("loss.weights.margin", o.weights.margin, "weight of the margin-head loss in the sum", Bounds::at_least(0));
  s.add("loss.weights.triplet", o.weights.triplet,
        "weight of the triplet loss added to a margin head (0 = off; head triplet uses it alone)", Bounds::at_least(0));
}

}  // namespace ff::losses
