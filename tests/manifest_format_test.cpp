// Saved manifest formats: JSONL round trips and rejects damage; mtree matches bsdtar.
#include "cdrift/layer/load.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/manifest/mtree.hpp"
#include "cdrift/source/byte_source.hpp"
#include "cdrift/util/escape.hpp"
#include "test_tar.hpp"

#include <doctest/doctest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace cdrift;
using namespace cdrift::test;

namespace {

Entry make(std::string path, FileType type, std::uint32_t mode = 0644) {
  Entry e;
  e.path = std::move(path);
  e.type = type;
  e.mode = mode;
  e.mtime = 1700000000;
  return e;
}

Entry with_content(Entry e, std::string_view content) {
  e.size = content.size();
  e.sha256 = sha256_of(content);
  return e;
}

Manifest sample() {
  Manifest m;
  m.source = "oci:/images/app";
  m.kind = SourceKind::oci_layout;
  Entry root = make("/", FileType::dir, 0755);
  Entry bin = make("/bin", FileType::dir, 0755);
  Entry sh = with_content(make("/bin/sh", FileType::file, 04755), "\x7f"
                                                                  "ELF");
  sh.content_class = ContentClass::elf_executable;
  sh.layer = 0;
  sh.xattrs = {{"security.capability", std::string("\x01\x00\x00\x02\xff", 5)}, {"user.x", ""}};
  Entry script = with_content(make("/bin/run", FileType::file, 0755), "#!/bin/sh\n");
  script.content_class = ContentClass::script;
  script.interpreter = "/bin/sh";
  script.uid = 1000;
  script.gid = 4294967295u;
  script.layer = 2;
  Entry bad_name = with_content(make("/caf\xe9-\xff", FileType::file), "latin1 name");
  Entry link = make("/link", FileType::symlink, 0777);
  link.target = "../t\xfe\xff/x";
  Entry good_link = make("/lnk", FileType::symlink, 0777);
  good_link.target = "/usr/bin/\xc3\xa9";
  Entry dev = make("/null", FileType::chardev, 0666);
  dev.dev_major = 1;
  dev.dev_minor = 3;
  Entry blk = make("/sda", FileType::blockdev, 0660);
  blk.dev_major = 8;
  Entry fifo = make("/pipe", FileType::fifo, 0600);
  Entry sock = make("/sock", FileType::socket, 0755);
  Entry old = with_content(make("/old", FileType::file, 0600), "");
  old.mtime = -5;
  old.content_class = ContentClass::empty;
  Entry ctl = with_content(make("/x\n\x1b", FileType::file), "ctl");
  m.entries = {root, bin, sh, script, bad_name, link, good_link, dev, blk, fifo, sock, old, ctl};
  std::sort(m.entries.begin(), m.entries.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  m.captures.files["/etc/passwd"] = "root:x:0:0::/root:/bin/sh\n";
  m.captures.files["/home/\xff/.bash_history"] = std::string("rm -rf /\0\xff", 10);
  m.captures.bytes = 26 + 10;
  ImageInfo info;
  info.manifest_digest = "sha256:" + std::string(64, 'a');
  info.config_digest = "sha256:" + std::string(64, 'b');
  info.platform = "linux/amd64";
  info.user = "app";
  info.entrypoint = {"/bin/run"};
  info.cmd = {"--serve"};
  LayerInfo l;
  l.digest = "sha256:" + std::string(64, 'c');
  l.diff_id = "sha256:" + std::string(64, 'd');
  l.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
  l.size = 1234;
  l.verified = true;
  l.created_by = "RUN make";
  info.layers = {l};
  m.image = info;
  return m;
}

std::string write_jsonl(const Manifest& m) {
  std::string out;
  write_manifest_jsonl(m, [&](std::string_view chunk) { out.append(chunk); });
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    lines.push_back(line);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines)
    s += l + "\n";
  return s;
}

Result<Manifest> read_jsonl(const std::string& text) {
  auto lines = lines_of(text);
  std::size_t i = 0;
  return read_manifest_jsonl(
      [&](std::string& line) -> Result<bool> {
        if (i == lines.size()) return false;
        line = lines[i++];
        return true;
      },
      "saved.jsonl");
}

void check_same_entries(const Manifest& a, const Manifest& b) {
  REQUIRE(a.entries.size() == b.entries.size());
  for (std::size_t i = 0; i < a.entries.size(); ++i) {
    const Entry& x = a.entries[i];
    const Entry& y = b.entries[i];
    INFO(escape_for_terminal(x.path));
    CHECK(x.path == y.path);
    CHECK(x.type == y.type);
    CHECK(x.mode == y.mode);
    CHECK(x.uid == y.uid);
    CHECK(x.gid == y.gid);
    CHECK(x.size == y.size);
    CHECK(x.sha256 == y.sha256);
    CHECK(x.target == y.target);
    CHECK(x.dev_major == y.dev_major);
    CHECK(x.dev_minor == y.dev_minor);
    CHECK(x.mtime == y.mtime);
    CHECK(x.xattrs == y.xattrs);
    CHECK(x.layer == y.layer);
    CHECK(x.content_class == y.content_class);
    CHECK(x.interpreter == y.interpreter);
  }
}

} // namespace

TEST_CASE("JSONL: write then read gives the same manifest") {
  Manifest m = sample();
  std::string text = write_jsonl(m);
  CHECK(looks_like_saved_manifest(text));
  auto lines = lines_of(text);
  REQUIRE(lines.size() == 1 + m.entries.size() + m.captures.files.size());
  // Every line is strict JSON (nlohmann rejects invalid UTF-8), with no raw control bytes.
  for (const auto& line : lines) {
    CHECK(is_valid_utf8(line));
    CHECK(nlohmann::json::accept(line));
    for (unsigned char c : line)
      CHECK(c >= 0x20);
  }
  auto header = nlohmann::json::parse(lines[0]);
  CHECK(header["entries"] == m.entries.size());
  CHECK(header["kind"] == "oci_layout");

  auto back = read_jsonl(text);
  REQUIRE_MESSAGE(back, (back ? "" : back.error().message));
  check_same_entries(m, *back);
  CHECK(back->source == m.source);
  CHECK(back->kind == m.kind);
  CHECK(back->captures.files == m.captures.files);
  CHECK(back->captures.bytes == m.captures.bytes);
  REQUIRE(back->image);
  CHECK(back->image->manifest_digest == m.image->manifest_digest);
  CHECK(back->image->config_digest == m.image->config_digest);
  CHECK(back->image->platform == "linux/amd64");
  CHECK(back->image->entrypoint == m.image->entrypoint);
  REQUIRE(back->image->layers.size() == 1);
  CHECK(back->image->layers[0].digest == m.image->layers[0].digest);
  CHECK(back->image->layers[0].diff_id == m.image->layers[0].diff_id);
  CHECK(back->image->layers[0].verified);
  CHECK(back->image->layers[0].size == 1234);
  CHECK(back->image->layers[0].created_by == "RUN make");
  // Writing the read manifest again gives the same bytes.
  CHECK(write_jsonl(*back) == text);
}

TEST_CASE("JSONL: names that are not UTF-8 travel as base64 beside a lossy form") {
  Manifest m = sample();
  std::string text = write_jsonl(m);
  bool found_path = false, found_target = false;
  for (const auto& line : lines_of(text)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("path_b64")) {
      std::string raw;
      REQUIRE(base64_decode(j["path_b64"].get<std::string>(), raw));
      CHECK(j["path"].get<std::string>() == utf8_lossy(raw));
      if (raw == "/caf\xe9-\xff") found_path = true;
    }
    if (j.contains("target_b64")) {
      std::string raw;
      REQUIRE(base64_decode(j["target_b64"].get<std::string>(), raw));
      CHECK(raw == "../t\xfe\xff/x");
      found_target = true;
    }
    if (j.contains("path") && j["path"] == "/lnk") {
      CHECK(j["target"] == "/usr/bin/\xc3\xa9"); // valid UTF-8 stays plain
      CHECK_FALSE(j.contains("target_b64"));
    }
  }
  CHECK(found_path);
  CHECK(found_target);
}

TEST_CASE("JSONL: the documented entry shape") {
  Manifest m;
  m.entries = {make("/", FileType::dir, 0755),
               with_content(make("/etc/passwd", FileType::file), "root\n")};
  m.entries[1].layer = 0;
  auto lines = lines_of(write_jsonl(m));
  REQUIRE(lines.size() == 3);
  auto j = nlohmann::json::parse(lines[2]);
  CHECK(j["path"] == "/etc/passwd");
  CHECK(j["type"] == "file");
  CHECK(j["mode"] == "0644");
  CHECK(j["uid"] == 0);
  CHECK(j["gid"] == 0);
  CHECK(j["size"] == 5);
  CHECK(j["sha256"] == sha256_hex("root\n"));
  CHECK(j["mtime"] == 1700000000);
  CHECK(j["layer"] == 0);
  auto root = nlohmann::json::parse(lines[1]);
  CHECK_FALSE(root.contains("size"));
  CHECK_FALSE(root.contains("sha256"));
  CHECK_FALSE(root.contains("layer")); // -1: outside images
}

TEST_CASE("JSONL: damaged manifests are rejected with the line") {
  Manifest m = sample();
  auto lines = lines_of(write_jsonl(m));
  const std::size_t n = m.entries.size();
  struct Case {
    const char* name;
    std::function<void(std::vector<std::string>&)> damage;
    std::string message_part;
  };
  std::vector<Case> cases = {
      {"truncated: fewer entries than the header says",
       [&](std::vector<std::string>& l) { l.resize(1 + n - 1); }, "truncated"},
      {"truncated to the header alone", [](std::vector<std::string>& l) { l.resize(1); },
       "truncated"},
      {"unsorted entries", [](std::vector<std::string>& l) { std::swap(l[2], l[3]); }, "sorted"},
      {"a repeated path", [](std::vector<std::string>& l) { l[3] = l[2]; }, "sorted"},
      {"no header", [](std::vector<std::string>& l) { l.erase(l.begin()); }, "header"},
      {"empty document", [](std::vector<std::string>& l) { l.clear(); }, "empty"},
      {"unknown format version",
       [](std::vector<std::string>& l) {
         auto h = nlohmann::json::parse(l[0]);
         h["cdrift_manifest"] = "99";
         l[0] = h.dump();
       },
       "version"},
      {"a line cut in half",
       [](std::vector<std::string>& l) { l[2] = l[2].substr(0, l[2].size() / 2); },
       "saved.jsonl:3"},
      {"bad base64 in path_b64",
       [](std::vector<std::string>& l) {
         for (auto& line : l) {
           auto j = nlohmann::json::parse(line);
           if (j.contains("path_b64")) {
             j["path_b64"] = "!!!";
             line = j.dump();
           }
         }
       },
       "base64"},
      {"relative path",
       [](std::vector<std::string>& l) {
         auto j = nlohmann::json::parse(l[2]);
         j["path"] = "bin";
         l[2] = j.dump();
       },
       "absolute"},
      {"mode out of range",
       [](std::vector<std::string>& l) {
         auto j = nlohmann::json::parse(l[2]);
         j["mode"] = "17777";
         l[2] = j.dump();
       },
       "mode"},
      {"mode not octal",
       [](std::vector<std::string>& l) {
         auto j = nlohmann::json::parse(l[2]);
         j["mode"] = "0958";
         l[2] = j.dump();
       },
       "mode"},
      {"uid negative",
       [](std::vector<std::string>& l) {
         auto j = nlohmann::json::parse(l[2]);
         j["uid"] = -1;
         l[2] = j.dump();
       },
       "uid"},
      {"uid above 32 bits",
       [](std::vector<std::string>& l) {
         auto j = nlohmann::json::parse(l[2]);
         j["uid"] = 4294967296ull;
         l[2] = j.dump();
       },
       "uid"},
      {"regular file without sha256",
       [](std::vector<std::string>& l) {
         for (auto& line : l) {
           auto j = nlohmann::json::parse(line);
           if (j.value("type", "") == "file") {
             j.erase("sha256");
             line = j.dump();
             break;
           }
         }
       },
       "sha256"},
      {"unknown type",
       [](std::vector<std::string>& l) {
         auto j = nlohmann::json::parse(l[2]);
         j["type"] = "door";
         l[2] = j.dump();
       },
       "type"},
      {"nested 100000 deep", [](std::vector<std::string>& l) { l[2] = std::string(100000, '['); },
       "nested"},
  };
  for (const auto& c : cases) {
    SUBCASE(c.name) {
      auto damaged = lines;
      c.damage(damaged);
      auto r = read_jsonl(join_lines(damaged));
      REQUIRE_FALSE(r);
      CHECK(r.error().kind == ErrorKind::input);
      INFO(r.error().message);
      CHECK(r.error().message.find(c.message_part) != std::string::npos);
      CHECK(r.error().message.find("saved.jsonl") != std::string::npos);
    }
  }
}

TEST_CASE("JSONL: a saved manifest is itself a source") {
  Manifest m = sample();
  std::string text = write_jsonl(m);
  MemorySource src(text, "m.jsonl");
  auto back = read_saved_manifest(src);
  REQUIRE_MESSAGE(back, (back ? "" : back.error().message));
  check_same_entries(m, *back);

  TempDir dir;
  {
    std::ofstream out(dir / "m.jsonl", std::ios::binary);
    out << text;
  }
  for (std::string spec : {dir / "m.jsonl", "manifest:" + (dir / "m.jsonl")}) {
    INFO(spec);
    auto loaded = load_manifest(parse_source_spec(spec), Side::container, LoadOptions{});
    REQUIRE_MESSAGE(loaded, (loaded ? "" : loaded.error().message));
    check_same_entries(m, *loaded);
    CHECK(loaded->captures.files == m.captures.files);
  }
  CHECK_FALSE(looks_like_saved_manifest("{\"cdrift\":1}"));
  CHECK_FALSE(looks_like_saved_manifest(""));
  CHECK(looks_like_saved_manifest("  {\"cdrift_manifest\":\"1\"}"));
}

TEST_CASE("mtree escaping matches bsdtar's") {
  // Expected strings are what `bsdtar --format=mtree` (libarchive 3.6.2) writes.
  struct Case {
    std::string in;
    std::string out;
  };
  std::vector<Case> cases = {
      {"/a b", "/a\\040b"},
      {"/h#x", "/h\\043x"},
      {"/e=q", "/e\\075q"},
      {"/b\\s", "/b\\134s"},
      {"/t\tx", "/t\\011x"},
      {"/n\nx", "/n\\012x"},
      {"/~ok", "/~ok"},
      {"/q\"", "/q\""},
      {"/\xe9", "/\\351"},
      {"/\x7f", "/\\177"},
      {"/caf\xc3\xa9", "/caf\\303\\251"},
      {"/plain-name_1.2+x@y", "/plain-name_1.2+x@y"},
  };
  for (const auto& c : cases) {
    INFO(c.out);
    CHECK(mtree_escape(c.in) == c.out);
  }
}

TEST_CASE("mtree output lines") {
  Manifest m;
  Entry root = make("/", FileType::dir, 0755);
  Entry f = with_content(make("/etc/my file", FileType::file, 04755), "abc");
  f.uid = 1;
  f.gid = 2;
  Entry l = make("/etc/mtab", FileType::symlink, 0777);
  l.target = "/proc/self/mounts";
  Entry d = make("/dev/null", FileType::chardev, 0666);
  d.dev_major = 1;
  d.dev_minor = 3;
  m.entries = {root, d, l, f};
  std::string out;
  write_manifest_mtree(m, [&](std::string_view c) { out.append(c); });
  auto lines = lines_of(out);
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] == "#mtree");
  CHECK(lines[1] == ". type=dir mode=755 uid=0 gid=0 time=1700000000.000000000");
  CHECK(lines[2] ==
        "./dev/null type=char mode=666 uid=0 gid=0 device=native,1,3 time=1700000000.000000000");
  CHECK(
      lines[3] ==
      "./etc/mtab type=link mode=777 uid=0 gid=0 link=/proc/self/mounts time=1700000000.000000000");
  CHECK(lines[4] == "./etc/my\\040file type=file mode=4755 uid=1 gid=2 size=3 sha256digest=" +
                        sha256_hex("abc") + " time=1700000000.000000000");
}
