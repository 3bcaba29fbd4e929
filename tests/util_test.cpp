// util/: paths, escaping, base64, UTF-8, atomic files, SHA-256, bounded JSON.
#include "cdrift/util/atomic_file.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/json.hpp"
#include "cdrift/util/path.hpp"
#include "cdrift/util/sha256.hpp"
#include "test_tar.hpp"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace cdrift;
using namespace cdrift::test;

namespace {

std::set<std::string> list_dir(const std::string& dir) {
  std::set<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  REQUIRE(d);
  while (dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n != "." && n != "..") out.insert(n);
  }
  ::closedir(d);
  return out;
}

std::string slurp(const std::string& path) {
  auto r = read_small_file(path, 1u << 20);
  REQUIRE(r);
  return *r;
}

} // namespace

TEST_CASE("clean_path") {
  struct Case {
    std::string raw;
    std::string clean; // empty: rejected
  };
  std::vector<Case> cases = {
      {"", "/"},
      {".", "/"},
      {"./", "/"},
      {"/", "/"},
      {"//", "/"},
      {"a", "/a"},
      {"/a/b", "/a/b"},
      {"./a//b/", "/a/b"},
      {"a/b/.", "/a/b"},
      {"a/./b/./", "/a/b"},
      {"///a///b///", "/a/b"},
      {"a/../b", "/b"},
      {"a/b/../../c", "/c"},
      {"a/..", "/"},
      {"...", "/..."},
      {"..a", "/..a"},
      {"a/..b", "/a/..b"},
      {".wh..wh..opq", "/.wh..wh..opq"},
      {std::string("a\0b", 3), std::string("/a\0b", 4)},
      {"caf\xe9", "/caf\xe9"},
      {"..", ""},
      {"../a", ""},
      {"/..", ""},
      {"/../a", ""},
      {"a/../..", ""},
      {"a/../../b", ""},
      {"./../a", ""},
  };
  for (const auto& c : cases) {
    INFO("raw: " << escape_for_terminal(c.raw));
    auto r = clean_path(c.raw);
    if (c.clean.empty()) {
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == ErrorKind::input);
      CHECK(r.error().message.find("..") != std::string::npos);
    } else {
      REQUIRE(r);
      CHECK(*r == c.clean);
    }
  }
  SUBCASE("the error escapes the hostile name") {
    auto r = clean_path("../\x1b[2J");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find('\x1b') == std::string::npos);
  }
}

TEST_CASE("parent_path, base_name, path_within") {
  CHECK(parent_path("/a/b") == "/a");
  CHECK(parent_path("/a") == "/");
  CHECK(parent_path("/") == "");
  CHECK(base_name("/a/b") == "b");
  CHECK(base_name("/") == "");
  CHECK(base_name("/a") == "a");
  CHECK(path_within("/a/b", "/a"));
  CHECK(path_within("/a", "/a"));
  CHECK_FALSE(path_within("/ab", "/a"));
  CHECK_FALSE(path_within("/a-b", "/a"));
  CHECK_FALSE(path_within("/", "/a"));
  CHECK(path_within("/x", "/"));
  CHECK(path_within("/", "/"));
}

TEST_CASE("escape_for_terminal") {
  struct Case {
    std::string in;
    std::string out;
  };
  std::vector<Case> cases = {
      {"plain/path.txt", "plain/path.txt"},
      {"\x1b[31mred", "\\x1b[31mred"},
      {"line\nforged", "line\\nforged"},
      {"cr\rtab\t", "cr\\rtab\\t"},
      {"del\x7f", "del\\x7f"},
      {std::string("nul\0", 4), "nul\\x00"},
      {"back\\slash", "back\\\\slash"},
      {"csi\xc2\x9b"
       "2J",
       "csi\\u009b2J"}, // C1 CSI as UTF-8
      {"c1\xc2\x80", "c1\\u0080"},
      {"bad\xff", "bad\\xff"},                           // invalid UTF-8 byte
      {"\xc3", "\\xc3"},                                 // truncated sequence
      {"\xc0\xaf", "\\xc0\\xaf"},                        // overlong '/'
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},               // surrogate
      {"evil\xe2\x80\xaetxt.exe", "evil\\u202etxt.exe"}, // bidi override
      {"\xe2\x81\xa6iso", "\\u2066iso"},                 // bidi isolate
      {"ls\xe2\x80\xa8"
       "sep",
       "ls\\u2028sep"}, // line separator
      {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
       "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80"},
  };
  for (const auto& c : cases) {
    INFO("expected: " << c.out);
    std::string got = escape_for_terminal(c.in);
    CHECK(got == c.out);
    // Whatever came in, nothing below 0x20 and no DEL goes out, and it is UTF-8.
    for (unsigned char ch : got)
      CHECK((ch >= 0x20 && ch != 0x7f));
    CHECK(is_valid_utf8(got));
  }
}

TEST_CASE("utf8_lossy") {
  CHECK(utf8_lossy("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(utf8_lossy("a\xff"
                   "b") == "a\xef\xbf\xbd"
                           "b");
  CHECK(utf8_lossy("\xe2\x82") == "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(utf8_lossy("\xc0\x80") == "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(utf8_lossy("") == "");
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  CHECK(is_valid_utf8(utf8_lossy(all)));
  // Control characters are valid UTF-8 and stay (JSON escapes them).
  CHECK(utf8_lossy("\x01\n") == "\x01\n");
}

TEST_CASE("is_valid_utf8") {
  struct Case {
    std::string s;
    bool valid;
  };
  std::vector<Case> cases = {
      {"", true},
      {"ascii", true},
      {"\xc3\xa9", true},
      {"\xef\xbf\xbf", true},          // U+FFFF
      {"\xf0\x9f\x98\x80", true},      // U+1F600
      {"\xf4\x8f\xbf\xbf", true},      // U+10FFFF
      {"\xed\x9f\xbf", true},          // U+D7FF, just below the surrogates
      {"\xc0\x80", false},             // overlong NUL
      {"\xc1\xbf", false},             // overlong
      {"\xe0\x80\xaf", false},         // overlong '/'
      {"\xf0\x80\x80\xaf", false},     // overlong '/'
      {"\xed\xa0\x80", false},         // U+D800
      {"\xed\xbf\xbf", false},         // U+DFFF
      {"\xf4\x90\x80\x80", false},     // above U+10FFFF
      {"\xf8\x88\x80\x80\x80", false}, // 5-byte form
      {"\x80", false},                 // lone continuation
      {"\xc3", false},                 // truncated
      {"\xe2\x82", false},             // truncated
      {"\xc3\x28", false},             // bad continuation
      {"\xff", false},
  };
  for (const auto& c : cases) {
    INFO(escape_for_terminal(c.s));
    CHECK(is_valid_utf8(c.s) == c.valid);
  }
}

TEST_CASE("base64") {
  struct Case {
    std::string raw;
    std::string b64;
  };
  std::vector<Case> cases = {{"", ""},
                             {"f", "Zg=="},
                             {"fo", "Zm8="},
                             {"foo", "Zm9v"},
                             {"foob", "Zm9vYg=="},
                             {"fooba", "Zm9vYmE="},
                             {"foobar", "Zm9vYmFy"},
                             {"\xff\xfe\xfd", "//79"},
                             {std::string("\0", 1), "AA=="}};
  for (const auto& c : cases) {
    CHECK(base64_encode(c.raw) == c.b64);
    std::string back = "stale";
    REQUIRE(base64_decode(c.b64, back));
    CHECK(back == c.raw);
  }
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  for (std::size_t len = 0; len < 10; ++len) {
    std::string s = all.substr(len * 7, len * 3 + 1);
    std::string back;
    REQUIRE(base64_decode(base64_encode(s), back));
    CHECK(back == s);
  }
  for (std::string bad :
       {"Zm9", "Zm9v!", "Z===", "=Zm9", "Zg==Zg==", "Zg=a", "Zm9vY===", "Zm 9v", "Zm9v\n"}) {
    INFO(bad);
    std::string out;
    CHECK_FALSE(base64_decode(bad, out));
  }
}

TEST_CASE("sha256 known vectors and streaming") {
  CHECK(to_hex(sha256_of("")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256_of("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(to_hex(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 h;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i)
    h.update(chunk);
  CHECK(to_hex(h.finish()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // finish() resets for reuse.
  h.update("abc");
  CHECK(to_hex(h.finish()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Odd split points give the same digest.
  std::string msg = "The quick brown fox jumps over the lazy dog";
  for (std::size_t cut = 0; cut <= msg.size(); cut += 5) {
    Sha256 s;
    s.update(msg.substr(0, cut));
    s.update(msg.substr(cut));
    CHECK(to_hex(s.finish()) == "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
  }
}

TEST_CASE("parse_sha256_hex") {
  std::string hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  Sha256Digest d{};
  REQUIRE(parse_sha256_hex(hex, d));
  CHECK(d == sha256_of("abc"));
  std::string upper = hex;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  REQUIRE(parse_sha256_hex(upper, d));
  CHECK(to_hex(d) == hex);
  CHECK_FALSE(parse_sha256_hex(hex.substr(1), d));
  CHECK_FALSE(parse_sha256_hex(hex + "0", d));
  CHECK_FALSE(parse_sha256_hex(std::string(63, 'a') + "g", d));
  CHECK_FALSE(parse_sha256_hex("", d));
}

TEST_CASE("AtomicFile") {
  TempDir dir;
  std::string target = dir / "report.json";

  SUBCASE("commit renames the temporary file into place") {
    AtomicFile f(target);
    REQUIRE(f.open());
    REQUIRE(f.write("hello "));
    REQUIRE(f.write("world"));
    CHECK(list_dir(dir.path()).count("report.json") == 0); // nothing visible before commit
    REQUIRE(f.commit());
    CHECK(slurp(target) == "hello world");
    CHECK(list_dir(dir.path()) == std::set<std::string>{"report.json"});
  }
  SUBCASE("commit replaces an existing file") {
    REQUIRE(write_file_atomic(target, "old"));
    REQUIRE(write_file_atomic(target, "new"));
    CHECK(slurp(target) == "new");
    CHECK(list_dir(dir.path()).size() == 1);
  }
  SUBCASE("destroyed without commit: no temporary file and no target") {
    {
      AtomicFile f(target);
      REQUIRE(f.open());
      REQUIRE(f.write("partial"));
      CHECK(list_dir(dir.path()).size() == 1); // the temporary file
    }
    CHECK(list_dir(dir.path()).empty());
  }
  SUBCASE("destroyed without commit leaves an existing target untouched") {
    REQUIRE(write_file_atomic(target, "keep"));
    {
      AtomicFile f(target);
      REQUIRE(f.open());
      REQUIRE(f.write("discard"));
    }
    CHECK(slurp(target) == "keep");
    CHECK(list_dir(dir.path()) == std::set<std::string>{"report.json"});
  }
  SUBCASE("a device or FIFO is written in place, never renamed over") {
    std::string fifo = dir / "pipe";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    REQUIRE(reader >= 0);
    REQUIRE(write_file_atomic(fifo, "through"));
    char buf[16] = {};
    CHECK(::read(reader, buf, sizeof buf) == 7);
    CHECK(std::string(buf) == "through");
    ::close(reader);
    struct stat st;
    REQUIRE(::stat(fifo.c_str(), &st) == 0);
    CHECK(S_ISFIFO(st.st_mode));
    CHECK(list_dir(dir.path()) == std::set<std::string>{"pipe"});
    REQUIRE(write_file_atomic("/dev/null", "gone"));
    REQUIRE(::stat("/dev/null", &st) == 0);
    CHECK(S_ISCHR(st.st_mode));
  }
  SUBCASE("a directory that does not exist is an io error naming the path") {
    AtomicFile f(dir / "missing/sub/report.json");
    auto st = f.open();
    REQUIRE_FALSE(st);
    CHECK(st.error().kind == ErrorKind::io);
    CHECK(st.error().message.find("missing/sub/report.json") != std::string::npos);
  }
  SUBCASE("read_small_file enforces its limit") {
    REQUIRE(write_file_atomic(target, std::string(100, 'x')));
    CHECK(read_small_file(target, 100));
    auto r = read_small_file(target, 99);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::input);
    CHECK_FALSE(read_small_file(dir.path(), 100)); // a directory
  }
}

TEST_CASE("parse_json_document bounds nesting and reports positions") {
  SUBCASE("depth limit") {
    std::string ok = std::string(max_json_depth, '[') + std::string(max_json_depth, ']');
    CHECK(parse_json_document(ok, "doc"));
    std::string deep = std::string(max_json_depth + 1, '[') + std::string(max_json_depth + 1, ']');
    auto r = parse_json_document(deep, "doc");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("nested deeper") != std::string::npos);
    std::string objects;
    for (int i = 0; i <= max_json_depth; ++i)
      objects += "{\"a\":";
    objects += "1" + std::string(max_json_depth + 1, '}');
    CHECK_FALSE(parse_json_document(objects, "doc"));
  }
  SUBCASE("100000 deep is a clean error, not a crash") {
    for (std::string deep :
         {std::string(100000, '['), std::string(100000, '[') + std::string(100000, ']'),
          std::string(100000, '{')}) {
      auto r = parse_json_document(deep, "deep.json");
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == ErrorKind::input);
      CHECK(r.error().message.find("deep.json:1:") == 0);
    }
  }
  SUBCASE("brackets inside strings do not count") {
    std::string s = "[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"]";
    auto r = parse_json_document(s, "doc");
    REQUIRE(r);
    CHECK((*r)[0].get<std::string>().size() == 2001);
  }
  SUBCASE("invalid JSON names line and column") {
    auto r = parse_json_document("{\n  \"a\": 1,\n  \"b\": ,\n}", "cfg.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("cfg.json:3:") == 0);
    CHECK(r.error().message.find("invalid JSON") != std::string::npos);
    CHECK(r.error().message.find('\n') == std::string::npos);
    CHECK_FALSE(parse_json_document("", "empty.json"));
    CHECK_FALSE(parse_json_document("{} {}", "two.json"));
  }
  SUBCASE("comments only when allowed; the error kind is the caller's") {
    std::string text = "// rule pack\n{\"a\": 1 /* one */}";
    auto strict = parse_json_document(text, "r.json", JsonComments::reject, ErrorKind::rules);
    REQUIRE_FALSE(strict);
    CHECK(strict.error().kind == ErrorKind::rules);
    auto lenient = parse_json_document(text, "r.json", JsonComments::allow);
    REQUIRE(lenient);
    CHECK((*lenient)["a"] == 1);
  }
  SUBCASE("describe_offset") {
    CHECK(describe_offset("abc", 0) == "1:1");
    CHECK(describe_offset("ab\ncd", 4) == "2:2");
    CHECK(describe_offset("a\n\nb", 3) == "3:1");
  }
}
