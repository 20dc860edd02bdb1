// State dicts in Python's key order, and strict loading with a complete error report.
#include "backbones/state_dict.h"

#include <map>

#include "src/util/error.h"
#include "src/util/strings.h"

namespace ff::backbones {

namespace {

void collect(const torch::nn::Module& module, const std::string& prefix, NamedTensors& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false))
    if (p.value().defined()) out.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/false))
    if (b.value().defined()) out.emplace_back(prefix + b.key(), b.value());
  for (const auto& child : module.named_children()) collect(*child.value(), prefix + child.key() + ".", out);
}

// Lists at most `limit` names, then "... and N more": a wrong-architecture file has hundreds.
std::string name_list(const std::vector<std::string>& names, size_t limit = 8) {
  std::vector<std::string> shown(names.begin(), names.begin() + std::min(limit, names.size()));
  std::string text = join(shown, ", ");
  if (names.size() > limit) text += fmt::format(" ... and {} more", names.size() - limit);
  return text;
}

void strip_data_parallel_prefix(NamedTensors& tensors) {
  const std::string prefix = "module.";
  if (tensors.empty()) return;
  for (const auto& [name, tensor] : tensors)
    if (name.rfind(prefix, 0) != 0) return;
  for (auto& entry : tensors) entry.first.erase(0, prefix.size());
}

}  // namespace

NamedTensors state_dict(const torch::nn::Module& module) {
  NamedTensors out;
  collect(module, "", out);
  return out;
}

void load_state_dict(torch::nn::Module& module, NamedTensors tensors, const std::string& source) {
  NamedTensors targets = state_dict(module);
  bool module_has_prefix = !targets.empty() && targets.front().first.rfind("module.", 0) == 0;
  if (!module_has_prefix) strip_data_parallel_prefix(tensors);

  std::map<std::string, at::Tensor> given;
  std::vector<std::string> duplicates;
  for (auto& [name, tensor] : tensors)
    if (!given.emplace(name, tensor).second) duplicates.push_back(name);
  std::vector<std::string> missing, mismatched, unexpected;
  std::map<std::string, bool> wanted;
  for (const auto& [name, target] : targets) {
    wanted[name] = true;
    auto it = given.find(name);
    if (it == given.end()) {
      missing.push_back(name);
    } else if (it->second.sizes() != target.sizes()) {
      mismatched.push_back(fmt::format("{} (file {}, model {})", name, format_shape(it->second.sizes().vec()), format_shape(target.sizes().vec())));
    } else if (it->second.is_floating_point() != target.is_floating_point()) {
      mismatched.push_back(fmt::format("{} (file {}, model {})", name, std::string(c10::toString(it->second.scalar_type())),
                                       std::string(c10::toString(target.scalar_type()))));
    }
  }
  for (const auto& [name, tensor] : given)
    if (!wanted.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty() || !duplicates.empty()) {
    std::vector<std::string> problems;
    if (!missing.empty()) problems.push_back(fmt::format("{} missing keys: {}", missing.size(), name_list(missing)));
    if (!unexpected.empty()) problems.push_back(fmt::format("{} unexpected keys: {}", unexpected.size(), name_list(unexpected)));
    if (!mismatched.empty()) problems.push_back(fmt::format("{} mismatched: {}", mismatched.size(), name_list(mismatched)));
    if (!duplicates.empty()) problems.push_back(fmt::format("duplicate keys: {}", name_list(duplicates)));
    fail("{}: weights do not fit the model ({} tensors expected): {}", source, targets.size(), join(problems, "; "));
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) target.copy_(given.at(name));
}

}  // namespace ff::backbones
