// Example changes in rule files: a compact JSON form that builds a Change and the
// two small manifests a rule may look into (captured files, entrypoint, entries).
#include "cdrift/diff/diff.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/sha256.hpp"
#include "classify/rule_internal.hpp"

#include <algorithm>
#include <map>

namespace cdrift::rule_detail {

using nlohmann::json;

namespace {

struct ExampleParser {
  const ErrorSite& site;
  std::string where; // "examples.match[0]"

  Error error(std::string_view field, std::string_view message,
              std::string_view code = "CDR-R012") const {
    return load_error(site, where + (field.empty() ? "" : ".") + std::string(field), message, code);
  }

  Status check_keys(const json& j, std::string_view prefix,
                    std::initializer_list<std::string_view> known) const {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end())
        return fail(error(std::string(prefix) + it.key(), "unknown field", "CDR-R007"));
    return {};
  }

  Status strings(const json& j, std::string_view field, std::vector<std::string>& out) const {
    if (!j.is_array()) return fail(error(field, "expected an array of strings", "CDR-R006"));
    for (const json& v : j) {
      if (!v.is_string()) return fail(error(field, "expected an array of strings", "CDR-R006"));
      out.push_back(v.get<std::string>());
    }
    return {};
  }

  Status uint_field(const json& j, const char* key, std::string_view prefix,
                    std::uint64_t& out) const {
    auto it = j.find(key);
    if (it == j.end()) return {};
    if (!it->is_number_unsigned())
      return fail(error(std::string(prefix) + key, "expected a non-negative integer", "CDR-R006"));
    out = it->get<std::uint64_t>();
    return {};
  }

  Status string_field(const json& j, const char* key, std::string_view prefix,
                      std::string& out) const {
    auto it = j.find(key);
    if (it == j.end()) return {};
    if (!it->is_string())
      return fail(error(std::string(prefix) + key, "expected a string", "CDR-R006"));
    out = it->get<std::string>();
    return {};
  }

  Result<Entry> entry(const json& j, const std::string& prefix, std::string path,
                      bool path_from_json) const {
    if (!j.is_object())
      return fail(error(prefix.substr(0, prefix.size() - 1), "expected an object", "CDR-R006"));
    CDRIFT_TRY(check_keys(j, prefix,
                          {"path", "type", "mode", "uid", "gid", "size", "class", "target",
                           "xattrs", "content", "interpreter", "mtime"}));
    Entry e;
    if (path_from_json) {
      CDRIFT_TRY(string_field(j, "path", prefix, path));
      if (path.empty() || path[0] != '/')
        return fail(error(prefix + "path", "expected an absolute path"));
    } else if (j.contains("path")) {
      return fail(error(prefix + "path", "the entry's path is the example's path", "CDR-R007"));
    }
    e.path = path;
    std::string s;
    CDRIFT_TRY(string_field(j, "type", prefix, s));
    if (!s.empty()) {
      auto t = parse_file_type(s);
      if (!t)
        return fail(
            error(prefix + "type", "unknown type \"" + escape_for_terminal(s) + "\"", "CDR-R004"));
      e.type = *t;
    }
    s.clear();
    CDRIFT_TRY(string_field(j, "mode", prefix, s));
    if (!s.empty()) {
      if (!parse_mode_string(s, e.mode))
        return fail(error(prefix + "mode", "expected an octal mode string such as \"0755\""));
    } else {
      e.mode = e.type == FileType::dir ? 0755 : e.type == FileType::symlink ? 0777 : 0644;
    }
    std::uint64_t v = 0;
    CDRIFT_TRY(uint_field(j, "uid", prefix, v));
    e.uid = static_cast<std::uint32_t>(v);
    v = 0;
    CDRIFT_TRY(uint_field(j, "gid", prefix, v));
    e.gid = static_cast<std::uint32_t>(v);
    v = 0;
    CDRIFT_TRY(uint_field(j, "mtime", prefix, v));
    e.mtime = static_cast<std::int64_t>(v);
    CDRIFT_TRY(string_field(j, "target", prefix, e.target));
    CDRIFT_TRY(string_field(j, "interpreter", prefix, e.interpreter));
    if (auto it = j.find("content"); it != j.end()) {
      if (!it->is_string()) return fail(error(prefix + "content", "expected a string", "CDR-R006"));
      std::string content = it->get<std::string>();
      e.size = content.size();
      e.sha256 = sha256_of(content);
    }
    CDRIFT_TRY(uint_field(j, "size", prefix, e.size));
    s.clear();
    CDRIFT_TRY(string_field(j, "class", prefix, s));
    if (!s.empty()) {
      auto c = parse_content_class(s);
      if (!c)
        return fail(error(prefix + "class",
                          "unknown content class \"" + escape_for_terminal(s) + "\"", "CDR-R004"));
      e.content_class = *c;
    } else if (e.type == FileType::file && e.size == 0) {
      e.content_class = ContentClass::empty; // what the sniffer says of a 0-byte file
    }
    if (auto it = j.find("xattrs"); it != j.end()) {
      if (!it->is_object())
        return fail(error(prefix + "xattrs", "expected an object of name: value", "CDR-R006"));
      for (auto x = it->begin(); x != it->end(); ++x) {
        if (!x->is_string())
          return fail(error(prefix + "xattrs." + x.key(), "expected a string", "CDR-R006"));
        e.xattrs.push_back(Xattr{x.key(), x->get<std::string>()});
      }
    }
    return e;
  }

  Status files(const json& j, std::string_view field,
               std::map<std::string, std::string>& out) const {
    if (!j.is_object())
      return fail(error(field, "expected an object of path: content", "CDR-R006"));
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it->is_string())
        return fail(error(std::string(field) + "." + it.key(), "expected a string", "CDR-R006"));
      out[it.key()] = it->get<std::string>();
    }
    return {};
  }

  Status entries(const json& j, const std::string& field, std::vector<Entry>& out) const {
    if (!j.is_array()) return fail(error(field, "expected an array of entries", "CDR-R006"));
    for (std::size_t i = 0; i < j.size(); ++i) {
      auto e = entry(j[i], field + "[" + std::to_string(i) + "].", "", true);
      if (!e) return fail(std::move(e).error());
      out.push_back(std::move(*e));
    }
    return {};
  }

  Status image_config(const json& j, ImageInfo& info) const {
    if (!j.is_object()) return fail(error("image_config", "expected an object", "CDR-R006"));
    CDRIFT_TRY(check_keys(j, "image_config.", {"entrypoint", "cmd", "env", "working_dir", "user"}));
    if (auto it = j.find("entrypoint"); it != j.end())
      CDRIFT_TRY(strings(*it, "image_config.entrypoint", info.entrypoint));
    if (auto it = j.find("cmd"); it != j.end())
      CDRIFT_TRY(strings(*it, "image_config.cmd", info.cmd));
    if (auto it = j.find("env"); it != j.end())
      CDRIFT_TRY(strings(*it, "image_config.env", info.env));
    CDRIFT_TRY(string_field(j, "working_dir", "image_config.", info.working_dir));
    CDRIFT_TRY(string_field(j, "user", "image_config.", info.user));
    return {};
  }

  static void finish_manifest(Manifest& m) {
    std::sort(m.entries.begin(), m.entries.end(),
              [](const Entry& a, const Entry& b) { return a.path < b.path; });
    m.entries.erase(std::unique(m.entries.begin(), m.entries.end(),
                                [](const Entry& a, const Entry& b) { return a.path == b.path; }),
                    m.entries.end());
  }

  static std::vector<Field> infer_fields(const Entry& a, const Entry& b) {
    std::vector<Field> f;
    if (a.type != b.type) f.push_back(Field::type);
    bool content = a.type == FileType::file && b.type == FileType::file &&
                   (a.size != b.size || a.content_class != b.content_class ||
                    (a.sha256 && b.sha256 && *a.sha256 != *b.sha256));
    if (content) f.push_back(Field::content);
    if (a.type == FileType::file && b.type == FileType::file && a.size != b.size)
      f.push_back(Field::size);
    if (a.mode != b.mode) f.push_back(Field::mode);
    if (a.uid != b.uid) f.push_back(Field::uid);
    if (a.gid != b.gid) f.push_back(Field::gid);
    if (a.target != b.target) f.push_back(Field::target);
    if (a.xattrs != b.xattrs) f.push_back(Field::xattrs);
    return f;
  }

  Result<RuleExample> parse(const json& j, bool expect_match) const {
    if (!j.is_object()) return fail(error("", "an example must be a JSON object", "CDR-R006"));
    CDRIFT_TRY(check_keys(j, "",
                          {"path", "change", "fields", "before", "after", "mode_added", "origin",
                           "image_files", "container_files", "image_entries", "container_entries",
                           "image_config", "note", "package"}));
    RuleExample ex;
    ex.expect_match = expect_match;
    Change& c = ex.change;
    CDRIFT_TRY(string_field(j, "path", "", c.path));
    if (c.path.empty() || c.path[0] != '/')
      return fail(error("path", "an example needs an absolute \"path\""));
    if (auto it = j.find("before"); it != j.end()) {
      auto e = entry(*it, "before.", c.path, false);
      if (!e) return fail(std::move(e).error());
      c.before = std::move(*e);
    }
    if (auto it = j.find("after"); it != j.end()) {
      auto e = entry(*it, "after.", c.path, false);
      if (!e) return fail(std::move(e).error());
      c.after = std::move(*e);
    }
    std::string kind;
    CDRIFT_TRY(string_field(j, "change", "", kind));
    if (!kind.empty()) {
      auto k = parse_change_kind(kind);
      if (!k)
        return fail(error("change", "unknown change kind \"" + escape_for_terminal(kind) + "\"",
                          "CDR-R004"));
      c.kind = *k;
    } else if (c.before && c.after) {
      c.kind = ChangeKind::modified;
    } else if (c.after) {
      c.kind = ChangeKind::added;
    } else if (c.before) {
      c.kind = ChangeKind::deleted;
    }
    // The side a change kind implies must be there, as the diff guarantees.
    if (c.kind == ChangeKind::added && !c.after) {
      c.after.emplace();
      c.after->path = c.path;
    }
    if (c.kind == ChangeKind::deleted && !c.before) {
      c.before.emplace();
      c.before->path = c.path;
    }
    if ((c.kind == ChangeKind::modified || c.kind == ChangeKind::touched) && !(c.before && c.after))
      return fail(error("", "a modified example needs \"before\" and \"after\""));
    if (c.kind == ChangeKind::added && c.before)
      return fail(error("before", "an added example has no \"before\""));
    if (c.kind == ChangeKind::deleted && c.after)
      return fail(error("after", "a deleted example has no \"after\""));
    for (Entry* e : {c.before ? &*c.before : nullptr, c.after ? &*c.after : nullptr})
      if (e && e->type == FileType::file && e->size == 0 && e->content_class == ContentClass::none)
        e->content_class = ContentClass::empty;

    if (auto it = j.find("fields"); it != j.end()) {
      std::vector<std::string> names;
      CDRIFT_TRY(strings(*it, "fields", names));
      for (auto& n : names) {
        auto f = parse_field(n);
        if (!f)
          return fail(
              error("fields", "unknown field \"" + escape_for_terminal(n) + "\"", "CDR-R004"));
        c.fields.push_back(*f);
      }
      std::sort(c.fields.begin(), c.fields.end());
    } else if (c.kind == ChangeKind::modified) {
      c.fields = infer_fields(*c.before, *c.after);
    }

    if (auto it = j.find("mode_added"); it != j.end()) {
      std::vector<std::string> names;
      CDRIFT_TRY(strings(*it, "mode_added", names));
      for (auto& n : names) {
        if (n == "setuid")
          c.mode_added |= bit_setuid;
        else if (n == "setgid")
          c.mode_added |= bit_setgid;
        else if (n == "sticky")
          c.mode_added |= bit_sticky;
        else if (n == "world_writable")
          c.mode_added |= bit_world_writable;
        else if (n == "executable")
          c.mode_added |= bit_executable;
        else
          return fail(error("mode_added", "unknown mode bit \"" + escape_for_terminal(n) + "\"",
                            "CDR-R004"));
      }
    }
    c.mode_added |=
        derive_mode_added(c.before ? &*c.before : nullptr, c.after ? &*c.after : nullptr);

    std::string origin;
    CDRIFT_TRY(string_field(j, "origin", "", origin));
    if (!origin.empty()) {
      auto o = parse_origin_kind(origin);
      if (!o)
        return fail(
            error("origin", "unknown origin \"" + escape_for_terminal(origin) + "\"", "CDR-R004"));
      ex.origin.emplace();
      ex.origin->kind = *o;
    }

    std::string package;
    CDRIFT_TRY(string_field(j, "package", "", package));
    if (!package.empty()) {
      // Stand-ins for what PackageEvents finds in real databases.
      static const PackageEvent installed{PackageAction::installed, "example", "", "1.0"};
      static const PackageEvent removed{PackageAction::removed, "example", "1.0", ""};
      static const PackageEvent upgraded{PackageAction::upgraded, "example", "1.0", "1.1"};
      PackageFacts f;
      f.package = "example";
      f.manager = "dpkg";
      if (package == "installed")
        f.event = &installed;
      else if (package == "removed")
        f.event = &removed;
      else if (package == "upgraded")
        f.event = &upgraded;
      else if (package == "database")
        f.database = true;
      else if (package == "bookkeeping")
        f.bookkeeping = true;
      else if (package != "listed")
        return fail(error("package",
                          "unknown package fact \"" + escape_for_terminal(package) +
                              "\" (installed, removed, upgraded, database, bookkeeping, listed)",
                          "CDR-R004"));
      ex.package = f;
    }

    ex.image.kind = SourceKind::oci_layout;
    ex.container.kind = SourceKind::container_export;
    if (c.before) ex.image.entries.push_back(*c.before);
    if (c.after) ex.container.entries.push_back(*c.after);
    if (auto it = j.find("image_entries"); it != j.end())
      CDRIFT_TRY(entries(*it, "image_entries", ex.image.entries));
    if (auto it = j.find("container_entries"); it != j.end())
      CDRIFT_TRY(entries(*it, "container_entries", ex.container.entries));
    if (auto it = j.find("image_files"); it != j.end())
      CDRIFT_TRY(files(*it, "image_files", ex.image.captures.files));
    if (auto it = j.find("container_files"); it != j.end())
      CDRIFT_TRY(files(*it, "container_files", ex.container.captures.files));
    if (auto it = j.find("image_config"); it != j.end()) {
      ImageInfo info;
      CDRIFT_TRY(image_config(*it, info));
      ex.image.image = std::move(info);
    }
    finish_manifest(ex.image);
    finish_manifest(ex.container);
    if (auto it = j.find("note"); it != j.end() && !it->is_string())
      return fail(error("note", "expected a string", "CDR-R006"));
    return ex;
  }
};

} // namespace

Status parse_examples(const json& j, const ErrorSite& site, std::vector<RuleExample>& out) {
  if (!j.is_object())
    return fail(load_error(site, "examples",
                           "expected an object {\"match\": [...], \"no_match\": [...]}",
                           "CDR-R006"));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "match" && it.key() != "no_match")
      return fail(load_error(site, "examples." + it.key(), "unknown field", "CDR-R007"));
  for (const char* key : {"match", "no_match"}) {
    auto list = j.find(key);
    if (list == j.end()) continue;
    if (!list->is_array())
      return fail(load_error(site, std::string("examples.") + key, "expected an array of examples",
                             "CDR-R006"));
    for (std::size_t i = 0; i < list->size(); ++i) {
      ExampleParser p{site, std::string("examples.") + key + "[" + std::to_string(i) + "]"};
      auto ex = p.parse((*list)[i], std::string_view(key) == "match");
      if (!ex) return fail(std::move(ex).error());
      out.push_back(std::move(*ex));
    }
  }
  return {};
}

bool parse_mode_string(std::string_view s, std::uint32_t& out) {
  if (s.empty() || s.size() > 5) return false;
  std::uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return false;
    v = v * 8 + static_cast<std::uint32_t>(c - '0');
  }
  if (v > 07777) return false;
  out = v;
  return true;
}

// Rules see exactly the bits the diff computes.
std::uint8_t derive_mode_added(const Entry* before, const Entry* after) {
  return after ? mode_bits_added(before, *after) : 0;
}

} // namespace cdrift::rule_detail
