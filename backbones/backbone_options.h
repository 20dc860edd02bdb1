// Backbone options (`model.*` keys).
#pragma once
#include <string>

namespace ff::config {
class Schema;
}

namespace ff::backbones {

struct BackboneOptions {
  std::string backbone = "mbf";  // registry name: r18 r34 r50 r100 r200 mbf mbf_large vit_t vit_s vit_b
  int embedding_size = 512;
  bool channels_last = true;     // NHWC memory format for convolutions (faster with oneDNN on CPU)
  double dropout = 0.0;          // IResNet: dropout before the FC layer (arcface_torch's `dropout`)
  double mask_ratio = 0.1;       // ViT: fraction of tokens dropped at random while training
  double drop_path = 0.1;        // ViT: stochastic-depth rate of the last block (linear from 0)
  std::string autocast = "none"; // none | fp16 | bf16: the convolution/transformer body runs under autocast
  std::string init_from;         // PyTorch state dict (torch.save) or FaceForge checkpoint to start from
};

void bind_schema(config::Schema& schema, BackboneOptions& options);

}  // namespace ff::backbones
