// Partial FC (An et al., 2021/2022): the margin classifier split over the ranks of a World and
// sampled. Rank r holds the centres of a contiguous class range; every step it all-gathers the
// global batch's embeddings and labels, keeps every class that is a positive in that batch plus
// uniformly drawn negatives up to int(sample_rate · local classes), applies any MarginHead to
// its sampled columns, and joins a distributed softmax cross-entropy (all-reduce of row maxima and
// of exp sums). A world of one with sample_rate 1 is the full classifier (MarginClassifier).
//
// Centres are not torch parameters: update() applies SGD with momentum or AdamW to them after
// backward — by default to the sampled rows only (sparse_update: unsampled centres and their momentum stay
// exactly as they were, as insightface's v1; v2 lets momentum and weight decay move every row,
// which costs a pass over all C·D values each step and drifts centres no sample has seen).
//
// Usage: PartialFC fc(world, 2'000'000, 512, make_margin_head(o), o.partial_fc, seed);
//        fc.set_step(step); auto loss = fc.forward(local_embeddings, local_labels); loss.backward();
//        fc.update(lr, 0.9, 5e-4);
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/nn/module.h>
#include <torch/serialize/archive.h>

#include "losses/head_options.h"
#include "losses/margin_head.h"

namespace ff::dist {
class World;
}

namespace ff::losses {

// The contiguous class range rank `rank` of `world` holds (the first C mod W ranks get one more).
struct ClassRange {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
ClassRange class_range(int64_t num_classes, int world, int rank);

// One optimizer step of the centres, the same rule as the backbone's optimizer: SGD with momentum
// (PyTorch's formula: m = μ m + g + λ w; w -= lr m) or AdamW (PyTorch's: w *= 1 - lr λ; first and
// second moments; bias-corrected step). Under sparse updates each centre counts its own AdamW steps,
// so a class first sampled at step 1000 takes a first step the size of a fresh Adam parameter's
// rather than one inflated by 1 - β2^1000.
struct CentreStep {
  enum class Rule { sgd, adamw } rule = Rule::sgd;
  double lr = 0.1;
  double momentum = 0.9;  // sgd
  double weight_decay = 5e-4;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adamw
};

class PartialFC : public torch::nn::Module {
 public:
  PartialFC(std::shared_ptr<dist::World> world, int64_t num_classes, int64_t embedding_size,
            std::shared_ptr<MarginHead> head, PartialFCOptions options = {}, uint64_t seed = 0);

  // embeddings [b, D] and labels [b] (global class ids; -1: the row is not scored by this
  // classifier) of this rank; b must be the same on every rank. Returns the mean loss over the
  // global batch's scored rows, the same value on every rank; backward yields this rank's share
  // (see dist::all_gather_with_grad). In eval mode nothing is sampled.
  at::Tensor forward(const at::Tensor& embeddings, const at::Tensor& labels);
  // Steps this step's centres: those of every training forward since the last update, their
  // gradients summed (micro-batches of gradient accumulation may sample different classes).
  void update(const CentreStep& step);
  void update(double lr, double momentum, double weight_decay) {  // SGD with momentum
    update(CentreStep{CentreStep::Rule::sgd, lr, momentum, weight_decay});
  }
  // The gradients update() would apply (one per training forward since the last update), for loss
  // scaling to unscale and check; discard_pending() drops them (a skipped step).
  std::vector<at::Tensor> pending_gradients() const;
  void discard_pending() { pending_.clear(); }
  // Sampling is drawn from (seed, step, rank): reproducible, different every step.
  void set_step(int64_t step);
  // Sub-center heads: only each class's most-won centre counts from now on (a no-op for K = 1).
  void drop_non_dominant_subcenters();

  int64_t num_classes() const { return num_classes_; }
  ClassRange range() const { return range_; }
  int sub_centers() const { return sub_centers_; }
  MarginHead& head() { return *head_; }
  const PartialFCOptions& options() const { return options_; }
  // Local class indices (0-based in this rank's range) scored by the last training forward, sorted.
  const at::Tensor& last_sampled() const { return sampled_; }
  int64_t sample_count() const;  // int(sample_rate · local classes), at least 1

  // This rank's state (centres, momentum, class range, head buffers) for a checkpoint shard.
  void save_shard(torch::serialize::OutputArchive& archive) const;
  // Rebuilds this rank's range from shards written by any number of ranks: each row is copied from
  // the shard whose range holds it; head buffers come from the first shard.
  void load_shards(std::vector<torch::serialize::InputArchive>& shards);

  at::Tensor weight;           // buffer [local C·K, D]
  at::Tensor weight_momentum;  // buffer, same shape (AdamW: the first moment)
  at::Tensor bias;             // softmax head only: [local C]
  at::Tensor bias_momentum;
  // AdamW only (undefined until its first step): second moments and each row's step count.
  at::Tensor weight_second, weight_steps, bias_second, bias_steps;

 private:
  std::shared_ptr<dist::World> world_;
  int64_t num_classes_;
  int sub_centers_;
  std::shared_ptr<MarginHead> head_;
  PartialFCOptions options_;
  uint64_t seed_;
  // Rows of `weight` holding the given local classes (K per class); undefined stays undefined (all).
  at::Tensor centre_rows(const at::Tensor& classes) const;

  int64_t step_ = 0, draws_ = 0;
  ClassRange range_;
  at::Tensor wins_, allowed_;      // sub-centres: [local C, K] as in MarginClassifier
  at::Tensor sampled_;             // local classes of the last forward (undefined: all)
  // Each training forward since the last update(): its classes and the leaves holding its
  // gradients. Several (gradient accumulation) are summed per row.
  struct Pending {
    at::Tensor classes, weight, bias;
  };
  std::vector<Pending> pending_;
};

}  // namespace ff::losses
