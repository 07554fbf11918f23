// The ABI tag. Every C++ type that crosses the plugin boundary (std::string, std::function,
// arma::mat, boost::json::value) must have the same layout on both sides. So a plugin records
// the versions it was compiled with, and the host rejects a library whose tag differs.
#pragma once

#include <armadillo>
#include <boost/version.hpp>

// Raised whenever an interface or a type that crosses the plugin boundary changes. Version 2
// changed RandomStream's generator, added Basis::evaluate_transposed and added the checkpoint
// hooks of Integrator and IntegrationObserver.
#define HJBTT_SDK_VERSION 2

#define HJBTT_STRINGIFY_IMPL(x) #x
#define HJBTT_STRINGIFY(x) HJBTT_STRINGIFY_IMPL(x)

#if defined(__clang__)
#define HJBTT_COMPILER_TAG "clang " HJBTT_STRINGIFY(__clang_major__)
#elif defined(__GNUC__)
#define HJBTT_COMPILER_TAG "gcc " HJBTT_STRINGIFY(__GNUC__)
#else
#define HJBTT_COMPILER_TAG "unknown-compiler"
#endif

#if defined(_GLIBCXX_RELEASE)
#define HJBTT_STDLIB_TAG "libstdc++ " HJBTT_STRINGIFY(_GLIBCXX_RELEASE)
#elif defined(_LIBCPP_VERSION)
#define HJBTT_STDLIB_TAG "libc++ " HJBTT_STRINGIFY(_LIBCPP_VERSION)
#else
#define HJBTT_STDLIB_TAG "unknown-stdlib"
#endif

// The tag a library compiled with these headers carries. Compared as a whole string.
#define HJBTT_ABI_TAG                                                                             \
  "hjbtt-sdk " HJBTT_STRINGIFY(HJBTT_SDK_VERSION) "; " HJBTT_COMPILER_TAG "; " HJBTT_STDLIB_TAG \
  "; armadillo " HJBTT_STRINGIFY(ARMA_VERSION_MAJOR) "." HJBTT_STRINGIFY(ARMA_VERSION_MINOR)   \
  "; boost " HJBTT_STRINGIFY(BOOST_VERSION)
