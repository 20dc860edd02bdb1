// A training-data source: indexable images with integer identity labels.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace cv {
class Mat;
}

namespace ff::datasets {


class Source {
 public:
  virtual ~Source() = default;
  virtual int64_t size() const = 0;         // number of images
  virtual int64_t num_classes() const = 0;  // labels are 0..num_classes-1
  virtual int64_t label(int64_t index) const = 0;
  // Decodes image `index` as 8-bit BGR; throws ff::Error naming the source and record.
  virtual void load(int64_t index, cv::Mat& bgr) const = 0;
  virtual std::string describe() const = 0;  // one line for logs
  // Where record `index` lives, for errors and landmark lookup: a path relative to the source root
  // ("id_00017/003.jpg") or "record 17" where records have no name.
  virtual std::string record_name(int64_t index) const { return "record " + std::to_string(index); }
  // The stored encoded bytes (JPEG/PNG) of record `index`, when the source keeps them; false for
  // sources that render images (then callers encode the decoded image themselves).
  virtual bool read_encoded(int64_t /*index*/, std::string& /*bytes*/) const { return false; }
  // Which of several mixed sources record `index` comes from (0 for a single source).
  virtual int origin(int64_t /*index*/) const { return 0; }
};

struct SourceOptions;
// Opens one `data.sources` entry by its format (without caps or alignment); errors name the path
// and what is wrong.
std::unique_ptr<Source> open_source(const SourceOptions& options);
// The source options for a path given on the command line: `format` names it, or "auto" infers it
// (a .rec file or a folder holding train.rec: recordio; a folder with synthetic.json: synthetic; a
// regular file: list; another folder: folder).
SourceOptions source_at(const std::string& path, const std::string& format = "auto");

}  // namespace ff::datasets
