// PyTorch weight files: what Python's `torch.save(model.state_dict(), path)` writes (a zip archive
// holding `data.pkl` plus one record per storage) read without running any pickled code, and
// written back so that Python's `torch.load(path)` — also with `weights_only=True` — returns an
// ordinary dict[str, Tensor].
#pragma once
#include <filesystem>

#include "backbones/state_dict.h"

namespace ff::backbones {

// Reads a state dict: a dict or OrderedDict of name -> tensor (parameters too, CPU or CUDA-saved,
// any dtype torch stores). An arcface_torch training checkpoint (`state_dict_backbone` entry) or a
// {"state_dict": ...} wrapper is unwrapped. Errors name the file and what was found instead.
NamedTensors read_weights_file(const std::filesystem::path& path);

// Writes contiguous CPU copies of `tensors` in the same format, atomically (temp file + rename).
void write_weights_file(const std::filesystem::path& path, const NamedTensors& tensors);

// True for TorchScript-style archives (FaceForge checkpoints, torch::save): they hold constants.pkl.
bool is_torchscript_archive(const std::filesystem::path& path);

}  // namespace ff::backbones
