# Finds every third-party dependency: Debian 12's packages here (see third_party/README.md), or the
# folder scripts/device/bundle.sh fills from them for a machine without packages (FF_BUNDLE_DIR).
find_package(Torch REQUIRED)        # libtorch-dev (1.13 CPU) or a pip PyTorch's LibTorch on GPU machines
# CUDA-only code (the CUDA allocator's statistics; NCCL process groups where nccl.h is found, e.g.
# in pip's nvidia-nccl wheel: FF_NCCL_INCLUDE_DIR) is compiled only against a LibTorch with CUDA.
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
  set(FF_WITH_CUDA ON)
  add_compile_definitions(FF_WITH_CUDA)
  find_path(FF_NCCL_INCLUDE_DIR nccl.h)
  message(STATUS "FaceForge: LibTorch with CUDA; nccl.h: ${FF_NCCL_INCLUDE_DIR}")
endif()
# ATen's OpenMP backend lives inline in its headers: at::parallel_for in our own kernels runs in
# parallel only when they are compiled with -fopenmp (the fused PReLU, IJB's pair scores). OFF for a
# pip LibTorch, which carries its own renamed libgomp: a second OpenMP runtime would not share its
# thread count (scripts/device/build.sh).
option(FF_WITH_OPENMP "Compile torch users with OpenMP, as Debian's LibTorch was built" ON)
if(FF_WITH_OPENMP)
  find_package(OpenMP REQUIRED COMPONENTS CXX)   # GCC's libgomp, the runtime libtorch-dev links
  set_property(TARGET torch APPEND PROPERTY INTERFACE_LINK_LIBRARIES OpenMP::OpenMP_CXX)
endif()
option(FF_WITH_IMGCODECS "Decode and encode images with OpenCV imgcodecs (OFF: in-memory tensors and rendered images only)" ON)
set(FF_BUNDLE_DIR "" CACHE PATH "Dependencies copied by scripts/device/bundle.sh (include/, lib/) instead of system packages")

if(FF_BUNDLE_DIR)
  include(${CMAKE_CURRENT_LIST_DIR}/bundle.cmake)
else()
  set(ff_opencv_components core imgproc)
  if(FF_WITH_IMGCODECS)
    list(APPEND ff_opencv_components imgcodecs)
  endif()
  find_package(OpenCV REQUIRED COMPONENTS ${ff_opencv_components})   # libopencv-dev
  find_package(yaml-cpp REQUIRED)     # libyaml-cpp-dev
  find_package(CLI11 REQUIRED)        # libcli11-dev
  find_package(SQLite3 REQUIRED)      # libsqlite3-dev
  find_package(nlohmann_json 3 REQUIRED)  # nlohmann-json3-dev
  find_package(fmt REQUIRED)          # libfmt-dev
  find_package(OpenSSL REQUIRED COMPONENTS Crypto)  # libssl-dev (libcrypto: SHA-256)

  add_library(opencv_deps INTERFACE)
  target_include_directories(opencv_deps INTERFACE ${OpenCV_INCLUDE_DIRS})
  target_link_libraries(opencv_deps INTERFACE ${OpenCV_LIBS})
endif()
if(FF_WITH_IMGCODECS)
  target_compile_definitions(opencv_deps INTERFACE FF_WITH_IMGCODECS)
endif()
