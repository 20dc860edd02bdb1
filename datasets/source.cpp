// Chooses the Source implementation that a `data.sources` entry's format names.
#include "datasets/source.h"

#include <filesystem>

#include "datasets/data_options.h"
#include "datasets/image_folder.h"
#include "datasets/image_list.h"
#include "datasets/recordio_source.h"
#include "datasets/synthetic_source.h"
#include "src/util/error.h"

namespace ff::datasets {

namespace fs = std::filesystem;

std::unique_ptr<Source> open_source(const SourceOptions& o) {
  if (o.format == "recordio") return std::make_unique<RecordIOSource>(o.path);
  if (o.format == "folder") return std::make_unique<ImageFolderSource>(o.path);
  if (o.format == "list") return std::make_unique<ImageListSource>(o.path, o.root);
  if (o.format == "synthetic") {
    if (o.path.empty()) return make_synthetic_source(o.synthetic);
    // The folder `faceforge data synth` wrote; synthetic.json is written last, so it marks a complete set.
    if (!fs::exists(fs::path(o.path) / "synthetic.json"))
      fail("{} is not a complete `faceforge data synth` output folder (no synthetic.json)", o.path);
    return std::make_unique<ImageFolderSource>(fs::path(o.path) / "images");
  }
  fail("unknown source format '{}': expected recordio, folder, list or synthetic", o.format);
}

SourceOptions source_at(const std::string& path, const std::string& format) {
  SourceOptions o;
  o.path = path;
  if (format != "auto") {
    o.format = format;
    return o;
  }
  fs::path p(path);
  if (!fs::exists(p)) fail("not found: {}", path);
  if (p.extension() == ".rec" || fs::exists(p / "train.rec"))
    o.format = "recordio";
  else if (fs::is_directory(p) && fs::exists(p / "synthetic.json"))
    o.format = "synthetic";
  else if (fs::is_regular_file(p))
    o.format = "list";
  else
    o.format = "folder";
  return o;
}

}  // namespace ff::datasets
