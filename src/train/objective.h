// What training minimises, assembled from `loss.*`: the margin-head classifier, the triplet loss,
// or their weighted sum (`loss.weights.margin`, `loss.weights.triplet`). One object for the
// trainer to call, to hand its parameters to the optimizer and its state to checkpoints. With
// `data.label_space: per_source` it holds one classifier per data source (TFace's branches): each
// scores only its source's images and the loss is the weighted sum of the branches' losses.
// Every classifier is a PartialFC on the run's World (a world of one holds every class), so one
// process and many take the same path; its centres are updated by update_classifiers(), not by the
// torch optimizer that takes parameters().
#pragma once
#include <map>
#include <memory>
#include <functional>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include <torch/serialize/archive.h>

#include "losses/head_options.h"
#include "losses/partial_fc.h"
#include "losses/triplet.h"

namespace ff::train {

// One classifier of a per-source objective: its data source, classes and loss weight.
struct Branch {
  std::string name;
  int64_t num_classes = 0;
  double weight = 1;
};

class Objective : public torch::nn::Module {
 public:
  // `world` null: a world of one. `seed` draws the initial centres and Partial FC's samples.
  Objective(const losses::HeadOptions& options, int64_t num_classes, int64_t embedding_size,
            std::shared_ptr<dist::World> world = nullptr, uint64_t seed = 0);
  // One classifier per branch (module names classifier_0, classifier_1, ...); batches must then
  // carry each image's source (`origins`). Triplet terms need one shared label space.
  Objective(const losses::HeadOptions& options, const std::vector<Branch>& branches, int64_t embedding_size,
            std::shared_ptr<dist::World> world = nullptr, uint64_t seed = 0);
  // The scalar loss of one batch; also records the numbers `log_values()` reports. `origins` (the
  // source of each row) is needed only with branches.
  at::Tensor forward(const at::Tensor& embeddings, const at::Tensor& labels, const at::Tensor& origins = {});
  // Once per optimizer step before forward (SphereFace's schedule) and at each epoch start
  // (sub-center dropping).
  void on_step(int64_t step);
  void on_epoch(int64_t epoch);
  // After backward: SGD with momentum on the classifiers' centres (see losses/partial_fc.h).
  void update_classifiers(const losses::CentreStep& step);
  // This rank's classifier shards (one entry per classifier) for a checkpoint, and their reload
  // from the shards of a run on any number of ranks (`shards[r]`: rank r's archive).
  void save_shards(torch::serialize::OutputArchive& archive) const;
  void load_shards(std::vector<torch::serialize::InputArchive>& shards);
  std::vector<std::shared_ptr<losses::PartialFC>> classifiers() const;

  bool uses_triplets() const { return triplet_ != nullptr; }  // batches must then be P x K
  // Per-step numbers for progress and JSON lines (e.g. triplet_active, triplet_d_ap, triplet_d_an).
  const std::map<std::string, double>& log_values() const { return values_; }

 private:
  losses::HeadOptions options_;
  std::shared_ptr<losses::PartialFC> classifier_;  // null when loss.head is triplet or with branches
  std::vector<std::shared_ptr<losses::PartialFC>> branch_classifiers_;
  std::vector<Branch> branches_;
  std::shared_ptr<losses::TripletLoss> triplet_;          // null when no triplet term
  double margin_weight_ = 0, triplet_weight_ = 0;
  std::map<std::string, double> values_;
};

}  // namespace ff::train
