// The error model shared by every module: a kind that decides the exit status and
// a one-line message that names the input and the problem.
#pragma once

#include "cdrift/util/expected.hpp"

#include <string>

namespace cdrift {

enum class ErrorKind {
  usage,     // bad command line or configuration: exit 2
  rules,     // a rule pack failed to load or lint: exit 2
  input,     // malformed, corrupt, truncated or hostile input: exit 3
  integrity, // a digest or size did not match its descriptor: exit 3
  runtime,   // a container runtime is missing, down or refused: exit 3
  io,        // the host failed us (write error, disk full): exit 3
};

struct Error {
  ErrorKind kind = ErrorKind::input;
  std::string message;
};

template <typename T>
using Result = Expected<T, Error>;
using Status = Expected<void, Error>;

inline Unexpected<Error> fail(ErrorKind kind, std::string message) {
  return Unexpected<Error>(Error{kind, std::move(message)});
}

inline Unexpected<Error> fail(Error e) {
  return Unexpected<Error>(std::move(e));
}

// Prefixes context ("layer 2 (sha256:ab..)") to an error travelling upwards.
inline Error with_context(Error e, const std::string& context) {
  e.message = context + ": " + e.message;
  return e;
}

} // namespace cdrift

// Propagates the error of an expression yielding Status or Result<T>.
#define CDRIFT_TRY(expr)                                                                           \
  do {                                                                                             \
    auto cdrift_try_result_ = (expr);                                                              \
    if (!cdrift_try_result_) return ::cdrift::fail(std::move(cdrift_try_result_).error());         \
  } while (0)
