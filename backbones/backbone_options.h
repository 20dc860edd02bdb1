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
  // NHWC memory format for convolutions: auto | true | false. auto picks per network what ran
  // faster with oneDNN on CPU here: NHWC for MobileFaceNet's depthwise convolutions (+25%),
  // NCHW for IResNet (NHWC was 10-35% slower).
  std::string channels_last = "auto";
  double dropout = 0.0;          // IResNet: dropout before the FC layer (arcface_torch's `dropout`)
  double mask_ratio = 0.1;       // ViT: fraction of tokens dropped at random while training
  double drop_path = 0.1;        // ViT: stochastic-depth rate of the last block (linear from 0)
  std::string autocast = "none"; // none | fp16 | bf16: the convolution/transformer body runs under autocast
  std::string init_from;         // PyTorch state dict (torch.save) or FaceForge checkpoint to start from
};

void bind_schema(config::Schema& schema, BackboneOptions& options);

// `channels_last` resolved for a network whose own preference is `network_default`.
bool use_channels_last(const BackboneOptions& options, bool network_default);

}  // namespace ff::backbones
