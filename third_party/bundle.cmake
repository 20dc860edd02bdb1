# Imported targets, under the names find_package gives on Debian, for the dependencies that
# scripts/device/bundle.sh copied from this machine's Debian packages into FF_BUNDLE_DIR:
# include/ (headers) and lib/ (shared libraries under their sonames, with everything they load
# that a stock Linux lacks). Used on GPU machines, which have a pip PyTorch but no Debian packages.
# No Catch2: the test suite's fixtures are image files, which need the imgcodecs the bundle leaves
# out, so a bundle build has BUILD_TESTING off.
set(ff_bundle ${FF_BUNDLE_DIR})
if(NOT EXISTS ${ff_bundle}/include/yaml-cpp/yaml.h)
  message(FATAL_ERROR "FF_BUNDLE_DIR=${ff_bundle} holds no bundle (include/yaml-cpp/yaml.h is missing); run scripts/device/bundle.sh")
endif()

function(ff_bundle_shared target soname)
  if(NOT EXISTS ${ff_bundle}/lib/${soname})
    message(FATAL_ERROR "${ff_bundle}/lib/${soname} is missing from the bundle")
  endif()
  add_library(${target} SHARED IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES IMPORTED_LOCATION ${ff_bundle}/lib/${soname}
                                             INTERFACE_INCLUDE_DIRECTORIES ${ff_bundle}/include)
endfunction()
function(ff_bundle_headers target)
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${ff_bundle}/include)
endfunction()

ff_bundle_shared(yaml-cpp libyaml-cpp.so.0.7)
ff_bundle_shared(SQLite::SQLite3 libsqlite3.so.0)
ff_bundle_shared(fmt::fmt libfmt.so.9)
ff_bundle_shared(OpenSSL::Crypto libcrypto.so.3)
ff_bundle_headers(CLI11::CLI11)
ff_bundle_headers(nlohmann_json::nlohmann_json)

add_library(opencv_deps INTERFACE)
target_include_directories(opencv_deps INTERFACE ${ff_bundle}/include/opencv4)
target_link_libraries(opencv_deps INTERFACE ${ff_bundle}/lib/libopencv_core.so.406 ${ff_bundle}/lib/libopencv_imgproc.so.406)
if(FF_WITH_IMGCODECS)
  message(FATAL_ERROR "the device bundle carries no OpenCV imgcodecs (over a hundred codec libraries): configure with -DFF_WITH_IMGCODECS=OFF")
endif()
set(BUILD_TESTING OFF CACHE BOOL "a bundle build has no test suite (its fixtures need imgcodecs)" FORCE)

# The bundled libraries load each other (and BLAS, TBB, ...) from lib/: the linker follows them
# there, and the programs find them there at run time.
link_directories(${ff_bundle}/lib)
add_link_options(-Wl,-rpath-link,${ff_bundle}/lib -Wl,-rpath,${ff_bundle}/lib)
