// Chooses the Source implementation that `data.format` names.
#include "datasets/source.h"

#include "datasets/data_options.h"
#include "datasets/image_folder.h"
#include "datasets/synthetic_source.h"
#include "src/util/error.h"

namespace ff::datasets {

std::unique_ptr<Source> open_source(const DataOptions& options) {
  if (options.format == "folder") return std::make_unique<ImageFolderSource>(options.root);
  if (options.format == "synthetic") return make_synthetic_source(options.synthetic);
  fail("unknown data.format '{}': expected folder or synthetic", options.format);
}

}  // namespace ff::datasets
