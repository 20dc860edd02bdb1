// In-pipeline alignment: wraps a source so every image is warped onto the ArcFace 112x112 template
// with its 5-point landmarks (looked up by the record's path relative to the source root).
#pragma once
#include <filesystem>
#include <memory>
#include <string>

#include "datasets/source.h"

namespace ff::datasets {

// Every record of `source` must have landmarks in `landmarks_file` (format ijb | rfw | csv | auto);
// a record without them is an error naming the record and the file, found when the source opens.
std::unique_ptr<Source> make_aligned_source(std::unique_ptr<Source> source, const std::filesystem::path& landmarks_file,
                                            const std::string& format);

}  // namespace ff::datasets
