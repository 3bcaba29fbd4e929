// Pieces shared by the renderers so that text, JSON and SARIF describe a change
// the same way.
#pragma once

#include "cdrift/classify/finding.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace cdrift {

using OrderedJson = nlohmann::ordered_json;

// "content size 839→869 mode 0755→4755": each changed field with before→after
// values where it has any. Input strings are escaped for terminals.
std::string describe_fields(const Change& change);

// "file 0755 0:0 1234 bytes" / "symlink → /x": the state of an added entry.
std::string describe_entry(const Entry& entry);

// Names of the ModeBit flags set in `bits`, in bit order ("setuid", "world-writable").
std::vector<std::string> mode_bit_names(std::uint8_t bits);

// A manifest entry with the field names of the manifest JSONL (entry_to_json in
// manifest/jsonl.hpp) in reading order; non-UTF-8 path or
// target bytes travel in path_b64 / target_b64 beside the lossy text.
OrderedJson report_entry_json(const Entry& entry);

// Adds `key` (lossy UTF-8) and `key_b64` (raw bytes) when `value` is not valid UTF-8.
void put_bytes(OrderedJson& object, const std::string& key, std::string_view value);

// The raw change, as `cdrift diff --format json` and findings share it.
void put_change(OrderedJson& object, const Change& change);

// Pretty (2 spaces) with a trailing newline; invalid UTF-8 cannot occur, but is
// replaced rather than thrown on should a caller slip.
std::string dump_json(const OrderedJson& value);

// {namespace, pod, container, pod_uid} as container.kubernetes (JSON, JSON Lines)
// and SARIF result properties spell it; all four keys always, "" for a missing label,
// so log pipelines index one shape.
OrderedJson kubernetes_json(const KubernetesIdentity& k);

// "shop/web-0 container app (uid 1111-2222)", escaped for a terminal.
std::string describe_kubernetes(const KubernetesIdentity& k);

// The fingerprint stored on the finding, else computed.
std::string fingerprint_of(const Finding& finding);

} // namespace cdrift
