// The one margin-head interface shared by every classifier (the full softmax classifier here,
// Partial FC shards later): heads turn cosines into adjusted, scaled logits.
//
// Archetype (every head says "implements MarginHead" and gives its formula):
//   input  cosine [B, C']: cos θ between L2-normalised embeddings and L2-normalised class centres,
//          for the C' columns this caller holds (all classes, or one rank's sampled shard);
//          for the `softmax` head (normalized() == false) the raw logits x·Wᵀ + b instead;
//   input  labels [B] int64: the target's column index in these C' columns, or -1 when the
//          target is not among them (then the row only gets the scaling);
//   input  norms [B]: the embeddings' L2 norms |x| (heads with needs_norms(): MagFace, AdaFace);
//   output logits [B, C'] for softmax cross-entropy, already multiplied by the scale s.
// A head never assumes it sees all classes. Stateful heads keep their state in buffers, so it is
// saved and restored with the classifier in checkpoints.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "losses/head_options.h"

namespace ff::losses {

class MarginHead : public torch::nn::Module {
 public:
  // Inter-class filtering (insightface's noisy-data option) first, then the head's own formula.
  at::Tensor forward(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms = {});

  virtual bool normalized() const { return true; }  // false: softmax, fed x·Wᵀ + b
  virtual bool needs_norms() const { return false; }
  virtual int sub_centers() const { return 1; }     // > 1: the classifier holds K centres per class
  // An extra loss term from the last forward (MagFace's norm regulariser); undefined when none.
  virtual at::Tensor regularizer() const { return {}; }
  // Training progress, once per optimizer step before the forward pass (SphereFace's λ schedule).
  virtual void on_step(int64_t step) { (void)step; }

  // Non-target cosines above this threshold are zeroed before the margin (0 = off).
  void set_interclass_filtering_threshold(double threshold) { interclass_threshold_ = threshold; }

  // Partial FC: each rank holds only some rows' targets, but some heads need every row's target
  // cosine (CurricularFace: t over the whole batch, and hard negatives judged against each row's
  // own target even when another rank holds it). Such heads say so; the caller then hands them
  // the target cosine of every row [B] (NaN for rows no classifier scores) before forward.
  virtual bool uses_batch_targets() const { return false; }
  void set_batch_targets(at::Tensor target_cosines) { batch_targets_ = std::move(target_cosines); }

 protected:
  at::Tensor batch_targets_;  // consumed (and cleared) by the next forward of such a head

  virtual at::Tensor logits(const at::Tensor& cosine, const at::Tensor& labels, const at::Tensor& norms) = 0;

 private:
  double interclass_threshold_ = 0;
};

// Shared mechanics of target-column heads.
// Each row's target column replaced by target(cos_y) ([B, 1] -> [B, 1]); rows labelled -1 unchanged.
// straight_through: the value is target(cos_y) but the gradient is that of cos_y (arcface_torch
// computes its margin under no_grad, so its backward treats the margin as the identity).
at::Tensor replace_target(const at::Tensor& cosine, const at::Tensor& labels,
                          const std::function<at::Tensor(const at::Tensor&)>& target, bool straight_through = false);
// The target cosines [B, 1] (column 0 for rows labelled -1) and the row mask [B, 1] of valid rows.
at::Tensor gather_target(const at::Tensor& cosine, const at::Tensor& labels);
// sin θ from cos θ with sin² floored at 1e-12, so derivatives stay finite at θ = 0.
at::Tensor sine_of(const at::Tensor& cosine);
// Checks the [B, C] / [B] shapes, naming the head.
void check_head_input(const char* head, const at::Tensor& cosine, const at::Tensor& labels);

// Builds the head named by options.head; unknown names list the known ones. Checks each head's own
// ranges (e.g. cosface needs m < 1), naming the config key.
std::shared_ptr<MarginHead> make_margin_head(const HeadOptions& options);
std::vector<std::string> margin_head_names();

}  // namespace ff::losses
