// Loss options (`loss.*` keys): which margin head, its scale and margins, each head's own
// parameters, and the triplet loss that can replace or join it.
#pragma once
#include <string>

namespace ff::config {
class Schema;
}

namespace ff::losses {

struct CombinedOptions {
  double m1 = 1.0;  // multiplicative angular margin
  double m2 = 0.5;  // additive angular margin (radians)
  double m3 = 0.0;  // additive cosine margin
};

struct SphereFaceOptions {
  int m = 4;                     // integer angular multiplier
  double lambda_base = 1000.0;   // λ = max(lambda_min, lambda_base (1 + gamma step)^-power)
  double lambda_gamma = 0.12;
  double lambda_power = 1.0;
  double lambda_min = 5.0;
};

struct SubCenterOptions {
  int k = 3;            // centres per class
  int drop_epoch = 0;   // from this epoch on, only each class's dominant centre counts (0 = never)
};

struct MagFaceOptions {
  double lower_norm = 10, upper_norm = 110;       // l_a, u_a
  double lower_margin = 0.45, upper_margin = 0.8;  // l_m, u_m
  double lambda_g = 35;                            // weight of g(a) = 1/a + a/u_a²
};

struct AdaFaceOptions {
  double h = 0.333;         // concentration of the normalised norm
  double momentum = 0.01;   // EMA of the batch norm mean and std
};

struct TripletLossOptions {
  std::string mining = "batch_hard";  // batch_all | batch_hard | semi_hard
  double margin = 0.2;                // α
};

struct LossWeights {
  double margin = 1.0;   // weight of the margin-head cross-entropy (ignored when head is triplet)
  double triplet = 0.0;  // weight of the triplet loss added to a margin head (head triplet: 1)
};

// Partial FC (losses/partial_fc.h): the classifier split over the ranks and sampled.
struct PartialFCOptions {
  double sample_rate = 1.0;   // share of each rank's classes scored per step (positives always kept)
  bool sparse_update = true;  // only sampled centres (and their momentum) change in a step
};

struct HeadOptions {
  std::string head = "arcface";
  double scale = 64.0;       // s
  double margin = 0.5;       // m: angular in radians (arcface, subcenter, curricular, elastic, adaface) or on the cosine (cosface)
  bool easy_margin = false;  // arcface family: keep cos θ whenever cos θ <= 0 instead of the linear fallback
  std::string margin_gradient = "exact";        // exact | straight_through (arcface_torch's no_grad margin)
  double interclass_filtering_threshold = 0.0;  // zero non-target cosines above this (0 = off)
  double elastic_sigma = 0.05;                  // elasticface: std of the per-sample margin
  double curricular_momentum = 0.01;            // curricularface: EMA rate of t
  CombinedOptions combined;
  SphereFaceOptions sphereface;
  SubCenterOptions subcenter;
  MagFaceOptions magface;
  AdaFaceOptions adaface;
  TripletLossOptions triplet;
  LossWeights weights;
  PartialFCOptions partial_fc;
};

void bind_schema(config::Schema& schema, HeadOptions& options);

}  // namespace ff::losses
