// Where an image's documents and blobs live: an OCI layout directory, or the
// members of an oci-archive / docker-archive tar read in place (never unpacked).
#pragma once

#include "cdrift/source/byte_source.hpp"

#include <map>
#include <memory>
#include <string>

namespace cdrift {

class BlobStore {
public:
  virtual ~BlobStore() = default;
  // `rel` is a clean relative name inside the store ("index.json", "blobs/sha256/ab..").
  virtual bool exists(const std::string& rel) const = 0;
  virtual Result<std::unique_ptr<ByteSource>> open(const std::string& rel) = 0;
  // Names the store in messages: the path the user gave.
  virtual const std::string& name() const = 0;

  Result<std::string> read_document(const std::string& rel, std::size_t limit);
};

Result<std::unique_ptr<BlobStore>> open_dir_store(const std::string& dir);
// Reads `fd`, a seekable tar file, and closes it with the store; indexes its members in one pass
// over the headers (data skipped with seeks).
Result<std::unique_ptr<BlobStore>> open_tar_store(Fd fd, const std::string& name);

// Cleans a name found in an image document (manifest.json "Layers", "Config") and
// rejects names that leave the store.
Result<std::string> clean_store_name(std::string_view raw, const std::string& store,
                                     const std::string& what);

} // namespace cdrift
