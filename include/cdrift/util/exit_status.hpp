// Exit statuses are a contract with users' scripts: see README "Exit codes".
#pragma once

#include "cdrift/util/error.hpp"

namespace cdrift {

enum class ExitStatus : int {
  success = 0,  // done; for audits: no unsuppressed drift at or above --fail-on
  drift = 1,    // audit found drift at or above --fail-on
  usage = 2,    // usage, configuration or rule-pack error
  input = 3,    // input, integrity or runtime error: the audit could not be trusted
  internal = 4, // a bug in cdrift (uncaught exception)
};

inline ExitStatus exit_status_for(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::usage:
  case ErrorKind::rules:
    return ExitStatus::usage;
  case ErrorKind::input:
  case ErrorKind::integrity:
  case ErrorKind::runtime:
  case ErrorKind::io:
    return ExitStatus::input;
  }
  return ExitStatus::internal;
}

} // namespace cdrift
