// smol/result.h — error handling shared by every library of the project.
//
// Goals: untrusted input (file bytes, HTTP bodies, user text) reports failure as a value that
// says what went wrong and where; no exception crosses a public header.
// Non-goals: error codes for programmatic branching (callers show the message), stack traces.
//
// Programmer invariants use SMOL_CHECK, which is always on (also in Release) and aborts with
// file and line: a broken invariant means the process state cannot be trusted any more.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

namespace smol {

// A failure description meant for a human: "what is wrong, and where" in one line.
struct Error {
  std::string message;
};

// Either a T or an Error. Accessing the wrong alternative is a programmer error (SMOL_CHECK).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() &;
  const T& value() const&;
  T&& value() &&;
  const std::string& error() const;

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error, for operations that return nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error.message)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
  bool failed_ = false;
};

[[noreturn]] inline void check_failed(const char* file, int line, const char* cond,
                                      const char* msg) {
  std::fprintf(stderr, "%s:%d: check failed: %s%s%s\n", file, line, cond, msg[0] ? ": " : "", msg);
  std::abort();
}

}  // namespace smol

// Always-on invariant check. `msg` is a string literal.
#define SMOL_CHECK(cond, msg)                                          \
  do {                                                                 \
    if (!(cond)) ::smol::check_failed(__FILE__, __LINE__, #cond, msg); \
  } while (0)

// Propagates a failed Result/Status from the current function.
#define SMOL_TRY(expr)                                                \
  do {                                                                \
    auto&& smol_try_r_ = (expr);                                      \
    if (!smol_try_r_.ok()) return ::smol::Error{smol_try_r_.error()}; \
  } while (0)

namespace smol {

template <typename T>
T& Result<T>::value() & {
  SMOL_CHECK(ok(), "value() of a failed Result");
  return std::get<0>(v_);
}
template <typename T>
const T& Result<T>::value() const& {
  SMOL_CHECK(ok(), "value() of a failed Result");
  return std::get<0>(v_);
}
template <typename T>
T&& Result<T>::value() && {
  SMOL_CHECK(ok(), "value() of a failed Result");
  return std::get<0>(std::move(v_));
}
template <typename T>
const std::string& Result<T>::error() const {
  SMOL_CHECK(!ok(), "error() of a successful Result");
  return std::get<1>(v_).message;
}

}  // namespace smol
