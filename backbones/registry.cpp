// Backbone registry by name; the built-in presets are tables (iresnet.h, vit.h), not code.
#include <map>
#include <mutex>

#include "backbones/autocast.h"
#include "backbones/backbone.h"
#include "backbones/iresnet.h"
#include "backbones/mobilefacenet.h"
#include "backbones/vit.h"
#include "src/config/schema.h"
#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::backbones {

namespace {
std::map<std::string, BackboneFactory>& registry() {
  static std::map<std::string, BackboneFactory> factories;
  return factories;
}
}  // namespace

void register_backbone(const std::string& name, BackboneFactory factory) { registry()[name] = std::move(factory); }

void register_builtin_backbones() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const auto& preset : kIResNetPresets) {
      register_backbone(preset.name, [layers = preset.layers](const BackboneOptions& o) {
        return std::make_shared<IResNet>(IResNetOptions(layers)
                                             .embedding_size(o.embedding_size)
                                             .dropout(o.dropout)
                                             .channels_last(use_channels_last(o, false))
                                             .autocast(o.autocast));
      });
    }
    struct MobileFaceNetPreset {
      const char* name;
      std::array<int, 4> blocks;
      int scale;
    };
    for (const auto& preset : {MobileFaceNetPreset{"mbf", {1, 4, 6, 2}, 2}, MobileFaceNetPreset{"mbf_large", {2, 8, 12, 4}, 4}}) {
      register_backbone(preset.name, [preset](const BackboneOptions& o) {
        return std::make_shared<MobileFaceNet>(MobileFaceNetOptions()
                                                   .blocks(preset.blocks)
                                                   .scale(preset.scale)
                                                   .embedding_size(o.embedding_size)
                                                   .channels_last(use_channels_last(o, true))
                                                   .autocast(o.autocast));
      });
    }
    for (const auto& preset : kVisionTransformerPresets) {
      register_backbone(preset.name, [preset](const BackboneOptions& o) {
        return std::make_shared<VisionTransformer>(VisionTransformerOptions(preset.dim, preset.depth)
                                                       .embedding_size(o.embedding_size)
                                                       .mask_ratio(o.mask_ratio)
                                                       .drop_path(o.drop_path)
                                                       .autocast(o.autocast));
      });
    }
  });
}

std::vector<std::string> backbone_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

std::shared_ptr<Backbone> make_backbone(const BackboneOptions& options) {
  auto it = registry().find(options.backbone);
  if (it == registry().end()) {
    fail("unknown backbone '{}': known backbones are {}", options.backbone, join(backbone_names(), ", "));
  }
  return it->second(options);
}

bool use_channels_last(const BackboneOptions& options, bool network_default) {
  return options.channels_last == "auto" ? network_default : options.channels_last == "true";
}

void bind_schema(config::Schema& s, BackboneOptions& o) {
  register_builtin_backbones();
  s.add("model.backbone", o.backbone, "backbone network by registry name", backbone_names());
  s.add("model.embedding_size", o.embedding_size, "embedding dimension", config::Bounds::closed(8, 8192));
  s.add("model.channels_last", o.channels_last,
        "NHWC memory format for convolutions; auto = the faster per network on CPU (mbf NHWC, IResNet NCHW)",
        {"auto", "true", "false"});
  s.add("model.dropout", o.dropout, "IResNet: dropout probability before the FC layer", config::Bounds::half_open(0, 1));
  s.add("model.mask_ratio", o.mask_ratio, "ViT: fraction of tokens randomly dropped while training",
        config::Bounds::half_open(0, 1));
  s.add("model.drop_path", o.drop_path, "ViT: stochastic-depth rate of the last block (linear from 0 at the first)",
        config::Bounds::half_open(0, 1));
  s.add("model.autocast", o.autocast, "mixed precision for the backbone body: fp16 (CUDA; dynamic loss scaling; a CPU run trains in fp32) or bf16; the head stays float32",
        {std::begin(kAutocastModes), std::end(kAutocastModes)});
  s.add("model.init_from", o.init_from,
        "start training from these backbone weights: a PyTorch state dict (torch.save) or a FaceForge checkpoint");
}

}  // namespace ff::backbones
