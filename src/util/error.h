// FaceForge's one error type: a message that already carries its context (file, line, key, record).
#pragma once
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace ff {

// Thrown for bad input and failed operations; the CLI prints it as one line `error: <what()>`.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// fail("cannot open {}: {}", path, reason) throws ff::Error with the formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace ff
