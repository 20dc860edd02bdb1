// The embedded synthetic generator exposed as a training Source (rendered on the fly).
#pragma once
#include <memory>

#include "datasets/source.h"
#include "datasets/synthetic.h"

namespace ff::datasets {

std::unique_ptr<Source> make_synthetic_source(const SyntheticOptions& options);

}  // namespace ff::datasets
