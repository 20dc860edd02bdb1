// The one margin-head interface shared by every classifier (the full softmax classifier here,
// Partial FC shards later): heads turn cosines into adjusted, scaled logits.
//
// Archetype (every head says "implements MarginHead" and gives its formula):
//   input  cosine [B, C']: cos θ between L2-normalised embeddings and L2-normalised class centres,
//          for the C' columns this caller holds (all classes, or one rank's sampled shard);
//   input  labels [B] int64: the target's column index in these C' columns, or -1 when the
//          target is not among them (then the row only gets the scaling);
//   output logits [B, C'] for softmax cross-entropy, already multiplied by the scale s.
// A head never assumes it sees all classes.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "losses/head_options.h"

namespace ff::losses {

class MarginHead : public torch::nn::Module {
 public:
  virtual at::Tensor forward(const at::Tensor& cosine, const at::Tensor& labels) = 0;
};

// Builds the head named by options.head; unknown names list the known ones.
std::shared_ptr<MarginHead> make_margin_head(const HeadOptions& options);
std::vector<std::string> margin_head_names();

}  // namespace ff::losses
