// Backbone registry by name.
#include <map>
#include <mutex>

#include "backbones/backbone.h"
#include "backbones/mobilefacenet.h"
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
    register_backbone("mbf", [](const BackboneOptions& o) {
      return std::make_shared<MobileFaceNet>(MobileFaceNetOptions().embedding_size(o.embedding_size).channels_last(o.channels_last));
    });
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

void bind_schema(config::Schema& s, BackboneOptions& o) {
  register_builtin_backbones();
  s.add("model.backbone", o.backbone, "backbone network by registry name", backbone_names());
  s.add("model.embedding_size", o.embedding_size, "embedding dimension", config::Bounds::closed(8, 8192));
  s.add("model.channels_last", o.channels_last, "NHWC memory format for convolutions (faster with oneDNN on CPU)");
}

}  // namespace ff::backbones
