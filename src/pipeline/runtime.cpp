#include "cdrift/pipeline/runtime.hpp"

#include "cdrift/source/process.hpp"
#include "cdrift/util/escape.hpp"
#include "cdrift/util/json.hpp"

#include <algorithm>
#include <optional>

namespace cdrift {

namespace {

using nlohmann::json;

constexpr std::size_t max_name_length = 256;

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Container names, ids and image references as the runtimes spell them:
// [A-Za-z0-9][A-Za-z0-9_.:/@-]* (covers "web", "registry:5000/a/b:tag@sha256:..."
// and "sha256:<hex>"). Nothing that a CLI could read as an option (leading '-'),
// nothing that forges lines or escapes in messages. The name still travels as one
// argv element after "--": no shell ever sees it.
Status validate_name(std::string_view name, const std::string& what) {
  if (name.empty()) return fail(ErrorKind::usage, what + ": empty name");
  if (name.size() > max_name_length)
    return fail(ErrorKind::usage,
                what + ": name longer than " + std::to_string(max_name_length) + " characters");
  if (name.starts_with("sha256:") && is_hex(name.substr(7)) && name.size() <= 7 + 64) return {};
  bool ok = is_alnum(name[0]);
  for (char c : name)
    if (!(is_alnum(c) || c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '-'))
      ok = false;
  if (!ok)
    return fail(
        ErrorKind::usage,
        what + ": \"" + escape_for_terminal(name) +
            "\" is not a valid container or image name (allowed: letters, digits and _ . : / @ -, "
            "starting with a letter or digit)");
  return {};
}

Status validate_runtime(const std::string& runtime) {
  if (runtime == "docker" || runtime == "podman" || runtime == "nerdctl") return {};
  return fail(ErrorKind::usage, "unknown container runtime \"" + escape_for_terminal(runtime) +
                                    "\" (expected docker, podman or nerdctl)");
}

std::string program(const std::string& runtime, const RuntimeOptions& options) {
  return options.runtime_path.empty() ? runtime : options.runtime_path;
}

ProcessOptions process_options(std::string description, const RuntimeOptions& options) {
  ProcessOptions p;
  p.description = std::move(description);
  p.timeout_seconds = options.timeout_seconds > 0 ? options.timeout_seconds : 600;
  return p;
}

// `X inspect` prints a JSON array with one object per name.
Result<json> inspect_object(std::vector<std::string> argv, const std::string& description,
                            const RuntimeOptions& options) {
  auto out = run_process(argv, process_options(description, options));
  if (!out) return fail(std::move(out).error());
  auto doc = parse_json_document(*out, description, JsonComments::reject, ErrorKind::runtime);
  if (!doc) return fail(std::move(doc).error());
  if (doc->is_array() && doc->size() == 1 && (*doc)[0].is_object()) return (*doc)[0];
  if (doc->is_object()) return *doc;
  return fail(ErrorKind::runtime,
              description + ": expected one JSON object, got " +
                  (doc->is_array() ? std::to_string(doc->size()) + " array elements"
                                   : std::string(doc->type_name())));
}

std::string get_string(const json& j, std::initializer_list<const char*> path) {
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return {};
    auto it = cur->find(key);
    if (it == cur->end()) return {};
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : std::string();
}

// Docker reports a config digest "sha256:<hex>", podman the bare hex.
std::optional<std::string> normalize_digest(std::string id) {
  if (is_hex(id) && id.size() == 64) id = "sha256:" + id;
  if (id.size() == 71 && id.starts_with("sha256:") && is_hex(std::string_view(id).substr(7)))
    return id;
  return std::nullopt;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// Go's zero time ("0001-01-01T00:00:00Z") stands for "never".
bool is_zero_time(const std::string& s) {
  return s.empty() || s.starts_with("0001-01-01");
}

// RFC 3339 with optional fractional seconds and a Z or ±HH:MM zone, as the
// runtimes print Go times ("2024-05-01T10:00:00.123456789+02:00").
std::optional<std::int64_t> parse_rfc3339_epoch(std::string_view s) {
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int year, mon, day, hour, min, sec;
  if (!num(0, 4, year) || s.size() < 20 || s[4] != '-' || !num(5, 2, mon) || s[7] != '-' ||
      !num(8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !num(11, 2, hour) ||
      s[13] != ':' || !num(14, 2, min) || s[16] != ':' || !num(17, 2, sec))
    return std::nullopt;
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
    return std::nullopt;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
      ++pos, ++digits;
    if (digits == 0) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int offset = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!num(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !num(pos + 4, 2, om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset = (oh * 60 + om) * 60 * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::int64_t days = days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + min * 60 + std::min(sec, 59) - offset;
}

} // namespace

RuntimeResolver make_runtime_resolver(const RuntimeOptions& options) {
  return [options](const SourceSpec& spec, Side side) -> Result<RuntimeStream> {
    CDRIFT_TRY(validate_runtime(spec.runtime));
    CDRIFT_TRY(validate_name(spec.location, escape_for_terminal(spec.text)));
    const std::string prog = program(spec.runtime, options);
    RuntimeStream rs;
    std::vector<std::string> argv;
    if (side == Side::container) {
      argv = {prog, "export", "--", spec.location};
      rs.description = spec.runtime + " export " + spec.location;
      // Always a plain tree: the container's own files must not be able to make
      // the export look like an image archive (a /manifest.json at its root).
      rs.form = SourceForm::rootfs_tar;
    } else if (spec.runtime == "podman") {
      // docker-archive keeps layers uncompressed (no gzip work) and the config blob
      // as stored, so its digest is the image id the cache is keyed by.
      argv = {prog, "save", "--format", "docker-archive", "--", spec.location};
      rs.description = spec.runtime + " save " + spec.location;
      rs.form = SourceForm::docker_archive;
    } else {
      argv = {prog, "save", "--", spec.location};
      rs.description = spec.runtime + " save " + spec.location;
      // docker 20.10 writes the legacy layout, 25+ and nerdctl add an OCI layout.
      rs.form = spec.runtime == "docker" ? SourceForm::docker_archive : SourceForm::auto_detect;
    }
    auto proc = ProcessSource::spawn(argv, process_options(rs.description, options));
    if (!proc) return fail(std::move(proc).error());
    rs.stream = std::move(*proc);
    return rs;
  };
}

Result<RuntimeContainer> inspect_container(const SourceSpec& container,
                                           const RuntimeOptions& options) {
  CDRIFT_TRY(validate_runtime(container.runtime));
  CDRIFT_TRY(validate_name(container.location, escape_for_terminal(container.text)));
  const std::string& rt = container.runtime;
  const std::string description = rt + " inspect " + container.location;
  auto obj = inspect_object(
      {program(rt, options), "inspect", "--type", "container", "--", container.location},
      description, options);
  if (!obj) return fail(std::move(obj).error());
  const json& j = *obj;

  RuntimeContainer out;
  ContainerInfo& info = out.info;
  info.source = container.text.empty() ? rt + ":" + container.location : container.text;
  info.id = get_string(j, {"Id"});
  info.name = get_string(j, {"Name"});
  if (info.name.starts_with("/")) info.name.erase(0, 1); // docker's "/web"
  info.created = get_string(j, {"Created"});
  info.started = get_string(j, {"State", "StartedAt"});
  if (is_zero_time(info.created)) info.created.clear();
  if (is_zero_time(info.started)) info.started.clear();
  info.user = get_string(j, {"Config", "User"});
  if (auto cfg = j.find("Config"); cfg != j.end() && cfg->is_object()) {
    if (auto ep = cfg->find("Entrypoint"); ep != cfg->end()) {
      if (ep->is_array()) {
        for (const auto& a : *ep)
          if (a.is_string()) info.entrypoint.push_back(a.get<std::string>());
      } else if (ep->is_string()) {
        // podman 4 joins the entrypoint with spaces; split it back (exact unless an
        // element itself held a space).
        std::string s = ep->get<std::string>();
        std::size_t pos = 0;
        while (pos < s.size()) {
          std::size_t end = s.find(' ', pos);
          if (end == std::string::npos) end = s.size();
          if (end > pos) info.entrypoint.push_back(s.substr(pos, end - pos));
          pos = end + 1;
        }
      }
    }
  }
  std::string image_name = get_string(j, {"ImageName"}); // podman
  if (image_name.empty()) image_name = get_string(j, {"Config", "Image"});

  auto digest = normalize_digest(get_string(j, {"Image"}));
  if (!digest)
    return fail(ErrorKind::runtime, description + ": no image id (\"Image\": \"" +
                                        escape_for_terminal(get_string(j, {"Image"})) +
                                        "\") in the inspect output");
  out.config_digest = *digest;
  info.image = image_name.empty() ? *digest : image_name;
  if (info.id.empty())
    return fail(ErrorKind::runtime, description + ": no container id in the inspect output");
  if (!info.created.empty()) {
    if (auto epoch = parse_rfc3339_epoch(info.created)) {
      info.created_epoch = *epoch;
      info.created_evidence = rt + " inspect: Created " + info.created;
    }
  }
  // By id, not by the tag the container was started from: a tag may have moved.
  out.image.form = SourceForm::runtime;
  out.image.runtime = rt;
  out.image.location = *digest;
  out.image.text = rt + ":" + *digest;
  return out;
}

Result<std::string> inspect_image_digest(const SourceSpec& image, const RuntimeOptions& options) {
  CDRIFT_TRY(validate_runtime(image.runtime));
  CDRIFT_TRY(validate_name(image.location, escape_for_terminal(image.text)));
  const std::string description = image.runtime + " image inspect " + image.location;
  auto obj =
      inspect_object({program(image.runtime, options), "image", "inspect", "--", image.location},
                     description, options);
  if (!obj) return fail(std::move(obj).error());
  auto digest = normalize_digest(get_string(*obj, {"Id"}));
  if (!digest) return fail(ErrorKind::runtime, description + ": no image id in the inspect output");
  return *digest;
}

Result<std::vector<std::string>> list_running_containers(const std::string& runtime,
                                                         const RuntimeOptions& options) {
  CDRIFT_TRY(validate_runtime(runtime));
  const std::string description = runtime + " ps";
  auto out = run_process({program(runtime, options), "ps", "-q", "--no-trunc"},
                         process_options(description, options));
  if (!out) return fail(std::move(out).error());
  std::vector<std::string> ids;
  std::size_t pos = 0;
  while (pos < out->size()) {
    std::size_t end = out->find('\n', pos);
    if (end == std::string::npos) end = out->size();
    std::string line = out->substr(pos, end - pos);
    pos = end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.pop_back();
    if (line.empty()) continue;
    if (auto s = validate_name(line, description); !s) return fail(std::move(s).error());
    ids.push_back(std::move(line));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

} // namespace cdrift
