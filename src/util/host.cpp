// gethostname() wrapper.
#include "src/util/host.h"

#include <unistd.h>

namespace ff {

std::string host_name() {
  char buffer[256] = {0};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

}  // namespace ff
