#include "cdrift/report/format.hpp"

#include "cdrift/classify/fingerprint.hpp"
#include "cdrift/manifest/jsonl.hpp"
#include "cdrift/util/escape.hpp"

#include <map>

namespace cdrift {

namespace {

const char* const arrow = "\xE2\x86\x92"; // →

std::string device_of(const Entry& e) {
  return std::to_string(e.dev_major) + "," + std::to_string(e.dev_minor);
}

std::string owner_of(const Entry& e) {
  return std::to_string(e.uid) + ":" + std::to_string(e.gid);
}

// "+security.capability -user.x ~user.y": which xattrs came, went or changed.
std::string describe_xattrs(const Entry& before, const Entry& after) {
  std::map<std::string, std::pair<const std::string*, const std::string*>> all;
  for (const Xattr& x : before.xattrs)
    all[x.name].first = &x.value;
  for (const Xattr& x : after.xattrs)
    all[x.name].second = &x.value;
  std::string out;
  for (const auto& [name, values] : all) {
    char sign = !values.first                     ? '+'
                : !values.second                  ? '-'
                : *values.first != *values.second ? '~'
                                                  : 0;
    if (!sign) continue;
    out += ' ';
    out += sign;
    out += escape_for_terminal(name);
  }
  return out;
}

} // namespace

std::string describe_fields(const Change& change) {
  if (!change.before || !change.after) return {};
  const Entry& b = *change.before;
  const Entry& a = *change.after;
  std::string out;
  auto add = [&](std::string_view name, const std::string& from, const std::string& to) {
    if (!out.empty()) out += ' ';
    out += name;
    if (!from.empty() || !to.empty()) out += ' ' + from + arrow + to;
  };
  for (Field f : change.fields) {
    switch (f) {
    case Field::type:
      add("type", std::string(to_string(b.type)), std::string(to_string(a.type)));
      break;
    case Field::content:
      add("content", {}, {});
      break;
    case Field::size:
      add("size", std::to_string(b.size), std::to_string(a.size));
      break;
    case Field::mode:
      add("mode", format_mode(b.mode), format_mode(a.mode));
      break;
    case Field::uid:
      add("uid", std::to_string(b.uid), std::to_string(a.uid));
      break;
    case Field::gid:
      add("gid", std::to_string(b.gid), std::to_string(a.gid));
      break;
    case Field::target:
      add("target", escape_for_terminal(b.target), escape_for_terminal(a.target));
      break;
    case Field::xattrs:
      if (!out.empty()) out += ' ';
      out += "xattrs" + describe_xattrs(b, a);
      break;
    case Field::device:
      add("device", device_of(b), device_of(a));
      break;
    }
  }
  return out;
}

std::string describe_entry(const Entry& e) {
  std::string out(to_string(e.type));
  out += " " + format_mode(e.mode) + " " + owner_of(e);
  switch (e.type) {
  case FileType::file:
    out += " " + std::to_string(e.size) + (e.size == 1 ? " byte" : " bytes");
    if (e.content_class != ContentClass::none && e.content_class != ContentClass::empty)
      out += " " + std::string(to_string(e.content_class));
    break;
  case FileType::symlink:
    out += std::string(" ") + arrow + " " + escape_for_terminal(e.target);
    break;
  case FileType::chardev:
  case FileType::blockdev:
    out += " " + device_of(e);
    break;
  default:
    break;
  }
  return out;
}

std::vector<std::string> mode_bit_names(std::uint8_t bits) {
  static const std::pair<ModeBit, const char*> names[] = {{bit_setuid, "setuid"},
                                                          {bit_setgid, "setgid"},
                                                          {bit_sticky, "sticky"},
                                                          {bit_world_writable, "world-writable"},
                                                          {bit_executable, "executable"}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : names)
    if (bits & bit) out.emplace_back(name);
  return out;
}

void put_bytes(OrderedJson& object, const std::string& key, std::string_view value) {
  object[key] = utf8_lossy(value);
  if (!is_valid_utf8(value)) object[key + "_b64"] = base64_encode(value);
}

OrderedJson report_entry_json(const Entry& e) {
  return entry_json<OrderedJson>(e);
}

void put_change(OrderedJson& j, const Change& c) {
  put_bytes(j, "path", c.path);
  j["change"] = to_string(c.kind);
  if (c.kind == ChangeKind::modified) {
    OrderedJson fields = OrderedJson::array();
    for (Field f : c.fields)
      fields.push_back(to_string(f));
    j["fields"] = std::move(fields);
  }
  if (c.mode_added) j["mode_added"] = mode_bit_names(c.mode_added);
  if (c.kind == ChangeKind::deleted && c.before && c.before->type == FileType::dir)
    j["subtree_entries"] = c.subtree_entries;
  if (c.before) j["before"] = report_entry_json(*c.before);
  if (c.after) j["after"] = report_entry_json(*c.after);
}

std::string dump_json(const OrderedJson& value) {
  return value.dump(2, ' ', false, OrderedJson::error_handler_t::replace) + "\n";
}

OrderedJson kubernetes_json(const KubernetesIdentity& k) {
  OrderedJson j;
  j["namespace"] = utf8_lossy(k.namespace_);
  j["pod"] = utf8_lossy(k.pod);
  j["container"] = utf8_lossy(k.container);
  j["pod_uid"] = utf8_lossy(k.pod_uid);
  return j;
}

std::string describe_kubernetes(const KubernetesIdentity& k) {
  auto or_unknown = [](const std::string& s) { return s.empty() ? std::string("?") : s; };
  std::string out = escape_for_terminal(or_unknown(k.namespace_)) + "/" +
                    escape_for_terminal(or_unknown(k.pod)) + " container " +
                    escape_for_terminal(or_unknown(k.container));
  if (!k.pod_uid.empty()) out += " (uid " + escape_for_terminal(k.pod_uid) + ")";
  return out;
}

std::string fingerprint_of(const Finding& finding) {
  return finding.fingerprint.empty() ? compute_fingerprint(finding) : finding.fingerprint;
}

} // namespace cdrift
