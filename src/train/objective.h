// What training minimises, assembled from `loss.*`: the margin-head classifier, the triplet loss,
// or their weighted sum (`loss.weights.margin`, `loss.weights.triplet`). One object for the
// trainer to call, to hand its parameters to the optimizer and its state to checkpoints.
#pragma once
#include <map>
#include <memory>
#include <string>

#include <torch/nn/module.h>

#include "losses/classifier.h"
#include "losses/head_options.h"
#include "losses/triplet.h"

namespace ff::train {

class Objective : public torch::nn::Module {
 public:
  Objective(const losses::HeadOptions& options, int64_t num_classes, int64_t embedding_size);
  // The scalar loss of one batch; also records the numbers `log_values()` reports.
  at::Tensor forward(const at::Tensor& embeddings, const at::Tensor& labels);
  // Once per optimizer step before forward (SphereFace's schedule) and at each epoch start
  // (sub-center dropping).
  void on_step(int64_t step);
  void on_epoch(int64_t epoch);

  bool uses_triplets() const { return triplet_ != nullptr; }  // batches must then be P x K
  // Per-step numbers for progress and JSON lines (e.g. triplet_active, triplet_d_ap, triplet_d_an).
  const std::map<std::string, double>& log_values() const { return values_; }

 private:
  losses::HeadOptions options_;
  std::shared_ptr<losses::MarginClassifier> classifier_;  // null when loss.head is triplet
  std::shared_ptr<losses::TripletLoss> triplet_;          // null when no triplet term
  double margin_weight_ = 0, triplet_weight_ = 0;
  std::map<std::string, double> values_;
};

}  // namespace ff::train
