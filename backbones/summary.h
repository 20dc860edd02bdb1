// What `faceforge model summary` prints: parameter counts, multiply-accumulates of one forward
// pass measured by observing the convolution and matrix-product operators as they run, and the
// output shape of each stage.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "backbones/backbone.h"

namespace ff::backbones {

struct ModelSummary {
  std::string name;
  int64_t parameters = 0;            // all parameters (insightface's count), frozen ones included
  int64_t trainable_parameters = 0;  // requires_grad only
  int64_t buffers = 0;               // BN running statistics and counters
  int64_t macs = 0;                  // multiply-accumulates for one 112x112 image (reported as "FLOPs" by insightface)
  int embedding_size = 0;
  std::vector<StageShape> stages;    // batch of one, eval mode
};

// Runs one eval-mode forward pass on a zero image with the network on CPU; restores training mode.
ModelSummary summarize(const std::string& name, Backbone& backbone);

// Multiply-accumulates of every convolution, matrix product and linear layer that `fn` executes on
// this thread (aten::convolution, mm, addmm, bmm, baddbmm; matmul and linear decompose into these).
int64_t count_macs(const std::function<void()>& fn);

std::string format_summary(const ModelSummary& summary);

}  // namespace ff::backbones
