// A small std::expected stand-in (C++20 has none): expected failures travel as
// return values; exceptions are reserved for the fatal and caught once in main.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace cdrift {

template <typename E>
class Unexpected {
public:
  explicit Unexpected(E error) : m_error(std::move(error)) {}
  E& error() & { return m_error; }
  E&& error() && { return std::move(m_error); }

private:
  E m_error;
};

template <typename T, typename E>
class Expected {
public:
  Expected(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
  Expected(Unexpected<E> u) : m_v(std::in_place_index<1>, std::move(u).error()) {}

  bool has_value() const { return m_v.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(m_v);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(m_v);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(m_v));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & {
    assert(!has_value());
    return std::get<1>(m_v);
  }
  const E& error() const& {
    assert(!has_value());
    return std::get<1>(m_v);
  }
  E&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(m_v));
  }

private:
  std::variant<T, E> m_v;
};

template <typename E>
class Expected<void, E> {
public:
  Expected() = default;
  Expected(Unexpected<E> u) : m_v(std::in_place_index<1>, std::move(u).error()) {}

  bool has_value() const { return m_v.index() == 0; }
  explicit operator bool() const { return has_value(); }
  E& error() & {
    assert(!has_value());
    return std::get<1>(m_v);
  }
  const E& error() const& {
    assert(!has_value());
    return std::get<1>(m_v);
  }
  E&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(m_v));
  }

private:
  std::variant<std::monostate, E> m_v;
};

} // namespace cdrift
