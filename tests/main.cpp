// The Catch2 main, compiled once for the whole test executable (with the CLI's allocator tuning).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "src/util/allocator.h"

int main(int argc, char* argv[]) {
  ff::tune_allocator();
  return Catch::Session().run(argc, argv);
}
