#include "cdrift/manifest/jsonl.hpp"

#include "cdrift/util/build_info.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/json.hpp"

#include <algorithm>

namespace cdrift {

using nlohmann::json;

namespace {

// Names travel as UTF-8 when they are; otherwise a lossy display form plus the
// exact bytes in base64 under KEY_b64, which readers prefer.
template <typename Json>
void put_bytes(Json& j, const char* key, const std::string& value) {
  if (is_valid_utf8(value)) {
    j[key] = value;
  } else {
    j[key] = utf8_lossy(value);
    j[std::string(key) + "_b64"] = base64_encode(value);
  }
}

Result<std::string> get_bytes(const json& j, const char* key, const std::string& where,
                              bool required) {
  std::string b64key = std::string(key) + "_b64";
  if (auto it = j.find(b64key); it != j.end()) {
    std::string out;
    if (!it->is_string() || !base64_decode(it->get<std::string>(), out))
      return fail(ErrorKind::input, where + ": \"" + b64key + "\" is not valid base64");
    return out;
  }
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return fail(ErrorKind::input, where + ": missing \"" + key + "\"");
    return std::string();
  }
  if (!it->is_string()) return fail(ErrorKind::input, where + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

} // namespace

template <typename Json>
Json entry_json(const Entry& e) {
  Json j = Json::object();
  put_bytes(j, "path", e.path);
  j["type"] = to_string(e.type);
  j["mode"] = format_mode(e.mode);
  j["uid"] = e.uid;
  j["gid"] = e.gid;
  if (e.type == FileType::file) {
    j["size"] = e.size;
    if (e.sha256) j["sha256"] = to_hex(*e.sha256);
  }
  if (e.type == FileType::symlink) put_bytes(j, "target", e.target);
  if (e.type == FileType::chardev || e.type == FileType::blockdev) {
    j["devmajor"] = e.dev_major;
    j["devminor"] = e.dev_minor;
  }
  j["mtime"] = e.mtime;
  if (e.layer >= 0) j["layer"] = e.layer;
  if (!e.xattrs.empty()) {
    json x = json::object();
    for (const auto& a : e.xattrs)
      x[utf8_lossy(a.name)] = base64_encode(a.value);
    j["xattrs"] = std::move(x);
  }
  if (e.content_class != ContentClass::none) j["class"] = to_string(e.content_class);
  if (!e.interpreter.empty()) put_bytes(j, "interpreter", e.interpreter);
  return j;
}

template json entry_json<json>(const Entry&);
template nlohmann::ordered_json entry_json<nlohmann::ordered_json>(const Entry&);

Result<Entry> entry_from_json(const json& j, const std::string& where) {
  if (!j.is_object()) return fail(ErrorKind::input, where + ": entry is not an object");
  Entry e;
  auto path = get_bytes(j, "path", where, true);
  if (!path) return fail(std::move(path).error());
  if (path->empty() || (*path)[0] != '/')
    return fail(ErrorKind::input,
                where + ": path \"" + escape_for_terminal(*path) + "\" is not absolute");
  e.path = std::move(*path);
  auto type = j.find("type");
  if (type == j.end() || !type->is_string() || !parse_file_type(type->get<std::string>()))
    return fail(ErrorKind::input, where + ": missing or unknown \"type\"");
  e.type = *parse_file_type(type->get<std::string>());
  auto mode = j.find("mode");
  if (mode == j.end() || !mode->is_string())
    return fail(ErrorKind::input, where + ": missing \"mode\"");
  try {
    std::size_t used = 0;
    std::string m = mode->get<std::string>();
    unsigned long v = std::stoul(m, &used, 8);
    if (used != m.size() || v > 07777) throw std::invalid_argument("mode");
    e.mode = static_cast<std::uint32_t>(v);
  } catch (const std::exception&) {
    return fail(ErrorKind::input, where + ": \"mode\" is not an octal permission string");
  }
  auto number = [&](const char* key, auto& out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) return fail(ErrorKind::input, where + ": missing \"" + std::string(key) + "\"");
      return {};
    }
    using T = std::remove_reference_t<decltype(out)>;
    if (!it->is_number_integer())
      return fail(ErrorKind::input, where + ": \"" + std::string(key) + "\" is not an integer");
    if constexpr (std::is_unsigned_v<T>) {
      if (!it->is_number_unsigned() || it->get<std::uint64_t>() > std::numeric_limits<T>::max())
        return fail(ErrorKind::input, where + ": \"" + std::string(key) + "\" is out of range");
    }
    out = it->get<T>();
    return {};
  };
  CDRIFT_TRY(number("uid", e.uid, true));
  CDRIFT_TRY(number("gid", e.gid, true));
  CDRIFT_TRY(number("size", e.size, false));
  CDRIFT_TRY(number("mtime", e.mtime, false));
  CDRIFT_TRY(number("layer", e.layer, false));
  CDRIFT_TRY(number("devmajor", e.dev_major, false));
  CDRIFT_TRY(number("devminor", e.dev_minor, false));
  if (auto it = j.find("sha256"); it != j.end()) {
    Sha256Digest d;
    if (!it->is_string() || !parse_sha256_hex(it->get<std::string>(), d))
      return fail(ErrorKind::input, where + ": \"sha256\" is not 64 hex digits");
    e.sha256 = d;
  }
  if (e.type == FileType::file && !e.sha256)
    return fail(ErrorKind::input, where + ": regular file without \"sha256\"");
  auto target = get_bytes(j, "target", where, e.type == FileType::symlink);
  if (!target) return fail(std::move(target).error());
  e.target = std::move(*target);
  if (auto it = j.find("xattrs"); it != j.end()) {
    if (!it->is_object()) return fail(ErrorKind::input, where + ": \"xattrs\" is not an object");
    for (auto x = it->begin(); x != it->end(); ++x) {
      std::string value;
      if (!x.value().is_string() || !base64_decode(x.value().get<std::string>(), value))
        return fail(ErrorKind::input,
                    where + ": xattr \"" + escape_for_terminal(x.key()) + "\" is not base64");
      e.xattrs.push_back(Xattr{x.key(), std::move(value)});
    }
    std::sort(e.xattrs.begin(), e.xattrs.end(),
              [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  }
  if (auto it = j.find("class"); it != j.end()) {
    if (!it->is_string() || !parse_content_class(it->get<std::string>()))
      return fail(ErrorKind::input, where + ": unknown \"class\"");
    e.content_class = *parse_content_class(it->get<std::string>());
  }
  auto interp = get_bytes(j, "interpreter", where, false);
  if (!interp) return fail(std::move(interp).error());
  e.interpreter = std::move(*interp);
  return e;
}

json image_info_to_json(const ImageInfo& info) {
  json j = json::object();
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = utf8_lossy(v);
  };
  auto put_list = [&](const char* k, const std::vector<std::string>& v) {
    if (v.empty()) return;
    json a = json::array();
    for (const auto& s : v)
      a.push_back(utf8_lossy(s));
    j[k] = std::move(a);
  };
  put("reference", info.reference);
  put("manifest_digest", info.manifest_digest);
  put("config_digest", info.config_digest);
  put("platform", info.platform);
  put("created", info.created);
  put("user", info.user);
  put("working_dir", info.working_dir);
  put_list("entrypoint", info.entrypoint);
  put_list("cmd", info.cmd);
  put_list("volumes", info.volumes);
  json layers = json::array();
  for (const auto& l : info.layers) {
    json lj = {{"digest", l.digest}, {"diff_id", l.diff_id}, {"verified", l.verified}};
    if (!l.media_type.empty()) lj["media_type"] = l.media_type;
    if (l.size) lj["size"] = l.size;
    if (!l.created_by.empty()) lj["created_by"] = utf8_lossy(l.created_by);
    layers.push_back(std::move(lj));
  }
  j["layers"] = std::move(layers);
  return j;
}

ImageInfo image_info_from_json(const json& j) {
  ImageInfo info;
  if (!j.is_object()) return info;
  info.reference = json_string(j, "reference");
  info.manifest_digest = json_string(j, "manifest_digest");
  info.config_digest = json_string(j, "config_digest");
  info.platform = json_string(j, "platform");
  info.created = json_string(j, "created");
  info.user = json_string(j, "user");
  info.working_dir = json_string(j, "working_dir");
  info.entrypoint = json_string_list(j, "entrypoint");
  info.cmd = json_string_list(j, "cmd");
  info.volumes = json_string_list(j, "volumes");
  if (auto it = j.find("layers"); it != j.end() && it->is_array())
    for (const auto& l : *it) {
      if (!l.is_object()) continue;
      LayerInfo li;
      li.digest = json_string(l, "digest");
      li.diff_id = json_string(l, "diff_id");
      li.media_type = json_string(l, "media_type");
      li.verified = json_bool(l, "verified");
      li.size = json_u64(l, "size");
      li.created_by = json_string(l, "created_by");
      info.layers.push_back(std::move(li));
    }
  return info;
}

void write_manifest_jsonl(const Manifest& m, const std::function<void(std::string_view)>& sink) {
  json header = json::object();
  header["cdrift_manifest"] = manifest_format_version;
  header["tool"] = {{"name", "cdrift"}, {"version", version_string}};
  put_bytes(header, "source", m.source);
  header["kind"] = to_string(m.kind);
  header["entries"] = m.entries.size();
  if (m.image) header["image"] = image_info_to_json(*m.image);
  std::string chunk = header.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  for (const auto& e : m.entries) {
    chunk += entry_to_json(e).dump(-1, ' ', false, json::error_handler_t::replace);
    chunk += '\n';
    if (chunk.size() > (1u << 20)) {
      sink(chunk);
      chunk.clear();
    }
  }
  // Captured small files (account and package databases, shell history) let a
  // saved manifest stand in for the image in origin attribution.
  for (const auto& [path, content] : m.captures.files) {
    json c = json::object();
    put_bytes(c, "capture", path);
    c["data_b64"] = base64_encode(content);
    chunk += c.dump() + "\n";
    if (chunk.size() > (1u << 20)) {
      sink(chunk);
      chunk.clear();
    }
  }
  if (!chunk.empty()) sink(chunk);
}

bool looks_like_saved_manifest(std::string_view head) {
  std::size_t i = 0;
  while (i < head.size() && (head[i] == ' ' || head[i] == '\t'))
    ++i;
  return head.substr(i).starts_with("{\"cdrift_manifest\"");
}

Result<Manifest> read_manifest_jsonl(const std::function<Result<bool>(std::string&)>& next_line,
                                     const std::string& name) {
  Manifest m;
  std::string line;
  std::size_t line_no = 0;
  bool header_seen = false;
  std::uint64_t declared = 0;
  for (;;) {
    auto more = next_line(line);
    if (!more) return fail(std::move(more).error());
    if (!*more) break;
    ++line_no;
    if (line.empty()) continue;
    std::string where = name + ":" + std::to_string(line_no);
    auto j = parse_json_document(line, where);
    if (!j) return fail(std::move(j).error());
    if (!header_seen) {
      if (!j->is_object() || !j->contains("cdrift_manifest"))
        return fail(ErrorKind::input, where + ": not a cdrift manifest (no header line)");
      if ((*j)["cdrift_manifest"] != manifest_format_version)
        return fail(ErrorKind::input, where + ": unsupported manifest format version");
      auto src = get_bytes(*j, "source", where, false);
      m.source = src ? *src : std::string();
      if (auto k = j->find("kind"); k != j->end() && k->is_string())
        if (auto kind = parse_source_kind(k->get<std::string>())) m.kind = *kind;
      if (auto im = j->find("image"); im != j->end()) m.image = image_info_from_json(*im);
      declared = json_u64(*j, "entries");
      header_seen = true;
      continue;
    }
    if (j->is_object() && j->contains("capture")) {
      auto path = get_bytes(*j, "capture", where, true);
      if (!path) return fail(std::move(path).error());
      std::string data;
      auto d = j->find("data_b64");
      if (d == j->end() || !d->is_string() || !base64_decode(d->get<std::string>(), data))
        return fail(ErrorKind::input, where + ": capture without valid \"data_b64\"");
      m.captures.bytes += data.size();
      m.captures.files[*path] = std::move(data);
      continue;
    }
    auto e = entry_from_json(*j, where);
    if (!e) return fail(std::move(e).error());
    if (!m.entries.empty() && !(m.entries.back().path < e->path))
      return fail(ErrorKind::input, where + ": entries are not sorted by path or repeat a path");
    m.entries.push_back(std::move(*e));
  }
  if (!header_seen) return fail(ErrorKind::input, name + ": empty manifest");
  if (declared != m.entries.size())
    return fail(ErrorKind::input, name + ": truncated manifest: header announces " +
                                      std::to_string(declared) + " entries, found " +
                                      std::to_string(m.entries.size()));
  return m;
}

} // namespace cdrift
