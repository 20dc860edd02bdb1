// A training-data source: indexable images with integer identity labels.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace cv {
class Mat;
}

namespace ff::datasets {

struct DataOptions;

class Source {
 public:
  virtual ~Source() = default;
  virtual int64_t size() const = 0;         // number of images
  virtual int64_t num_classes() const = 0;  // labels are 0..num_classes-1
  virtual int64_t label(int64_t index) const = 0;
  // Decodes image `index` as 8-bit BGR; throws ff::Error naming the source and record.
  virtual void load(int64_t index, cv::Mat& bgr) const = 0;
  virtual std::string describe() const = 0;  // one line for logs
};

// Opens the source that `options.format` names; errors name the path and what is wrong.
std::unique_ptr<Source> open_source(const DataOptions& options);

}  // namespace ff::datasets
