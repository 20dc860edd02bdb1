# Finds every third-party dependency (all from Debian 12 packages; see third_party/README.md).
find_package(Torch REQUIRED)        # libtorch-dev (1.13 CPU) or a pip PyTorch's LibTorch on GPU machines
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs)   # libopencv-dev
find_package(yaml-cpp REQUIRED)     # libyaml-cpp-dev
find_package(CLI11 REQUIRED)        # libcli11-dev
find_package(SQLite3 REQUIRED)      # libsqlite3-dev
find_package(nlohmann_json 3 REQUIRED)  # nlohmann-json3-dev
find_package(fmt REQUIRED)          # libfmt-dev
find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # libssl-dev (libcrypto: SHA-256)

add_library(opencv_deps INTERFACE)
target_include_directories(opencv_deps INTERFACE ${OpenCV_INCLUDE_DIRS})
target_link_libraries(opencv_deps INTERFACE ${OpenCV_LIBS})
