#include "cdrift/manifest/sniff.hpp"

#include <array>
#include <cstring>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string>
#include <vector>

using namespace cdrift;

namespace {

struct Sniffed {
  ContentClass cls;
  std::string interpreter;
};

Sniffed sniff(std::string_view data, std::uint64_t total = UINT64_MAX) {
  if (total == UINT64_MAX) total = data.size();
  std::string interp = "stale";
  std::size_t n = std::min(data.size(), sniff_prefix_size);
  auto cls = sniff_content(reinterpret_cast<const std::uint8_t*>(data.data()), n, total, interp);
  return {cls, interp};
}

// The first sniff_prefix_size bytes of a real file, as the hasher would see them.
std::optional<Sniffed> sniff_file(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::string head(sniff_prefix_size, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return sniff(head, size);
}

std::string first_existing(std::initializer_list<const char*> paths) {
  for (const char* p : paths)
    if (std::filesystem::is_regular_file(p)) return p;
  return {};
}

// A minimal ELF header with optional program headers.
std::string elf(bool is64, bool big_endian, std::uint16_t type,
                const std::vector<std::uint32_t>& phdr_types) {
  const std::size_t ehsize = is64 ? 64 : 52;
  const std::size_t phentsize = is64 ? 56 : 32;
  std::string out(ehsize + phentsize * phdr_types.size(), '\0');
  auto put = [&](std::size_t off, std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i) {
      std::size_t idx = big_endian ? off + width - 1 - i : off + i;
      out[idx] = static_cast<char>((v >> (8 * i)) & 0xff);
    }
  };
  out[0] = 0x7f;
  out[1] = 'E';
  out[2] = 'L';
  out[3] = 'F';
  out[4] = is64 ? 2 : 1;
  out[5] = big_endian ? 2 : 1;
  out[6] = 1;
  put(16, type, 2);
  if (!phdr_types.empty()) {
    if (is64) {
      put(32, ehsize, 8);
      put(54, phentsize, 2);
      put(56, phdr_types.size(), 2);
    } else {
      put(28, ehsize, 4);
      put(42, phentsize, 2);
      put(44, phdr_types.size(), 2);
    }
  }
  for (std::size_t i = 0; i < phdr_types.size(); ++i)
    put(ehsize + i * phentsize, phdr_types[i], 4);
  return out;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(len));
}

std::unique_ptr<EVP_PKEY, PkeyFree> make_key(const char* type) {
  return std::unique_ptr<EVP_PKEY, PkeyFree>(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

std::unique_ptr<X509, X509Free> make_cert(EVP_PKEY* key, const EVP_MD* md = nullptr) {
  std::unique_ptr<X509, X509Free> cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("cdrift test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_sign(cert.get(), key, md); // ed25519 signs without a digest
  return cert;
}

} // namespace

TEST_CASE("sniff: real ELF files from the build machine") {
  auto ls = sniff_file("/bin/ls");
  REQUIRE(ls);
  CHECK(ls->cls == ContentClass::elf_executable); // PIE: ET_DYN with PT_INTERP
  CHECK(ls->interpreter.empty());

  std::string lib = first_existing(
      {"/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
       "/usr/lib/x86_64-linux-gnu/libarchive.so.13", "/usr/lib/aarch64-linux-gnu/libz.so.1"});
  REQUIRE_MESSAGE(!lib.empty(), "no shared library found to test with");
  CHECK(sniff_file(lib)->cls == ContentClass::elf_shared);

  std::string obj =
      first_existing({"/usr/lib/x86_64-linux-gnu/crt1.o", "/usr/lib/x86_64-linux-gnu/crti.o",
                      "/usr/lib/aarch64-linux-gnu/crt1.o"});
  if (!obj.empty()) CHECK(sniff_file(obj)->cls == ContentClass::elf_relocatable);
}

TEST_CASE("sniff: crafted ELF headers") {
  CHECK(sniff(elf(true, false, 1, {})).cls == ContentClass::elf_relocatable); // .o / .ko
  CHECK(sniff(elf(true, false, 2, {1, 3})).cls == ContentClass::elf_executable);
  CHECK(sniff(elf(true, false, 3, {6, 1, 2})).cls == ContentClass::elf_shared);
  CHECK(sniff(elf(true, false, 3, {6, 3, 1})).cls == ContentClass::elf_executable);
  // 32-bit big-endian (mips, ppc) PIE and library.
  CHECK(sniff(elf(false, true, 3, {6, 3})).cls == ContentClass::elf_executable);
  CHECK(sniff(elf(false, true, 3, {1})).cls == ContentClass::elf_shared);
  CHECK(sniff(elf(false, true, 1, {})).cls == ContentClass::elf_relocatable);
  // Core dumps and garbage after the magic are just binary.
  CHECK(sniff(elf(true, false, 4, {})).cls == ContentClass::binary);
  CHECK(sniff(std::string("\x7f"
                          "ELF\x09\x01",
                          6))
            .cls == ContentClass::binary);
  // A program header table that starts beyond the prefix: a library, not a crash.
  std::string far = elf(true, false, 3, {3});
  far[32] = static_cast<char>(0x00);
  far[33] = static_cast<char>(0x10); // phoff = 4096
  CHECK(sniff(far, 8192).cls == ContentClass::elf_shared);
}

TEST_CASE("sniff: scripts record their interpreter") {
  auto sh = sniff("#!/bin/sh\necho hi\n");
  CHECK(sh.cls == ContentClass::script);
  CHECK(sh.interpreter == "/bin/sh");
  CHECK(sniff("#!/bin/bash -e\r\nset -x\n").interpreter == "/bin/bash");
  CHECK(sniff("#! /usr/bin/python3\nprint(1)\n").interpreter == "/usr/bin/python3");
  CHECK(sniff("#!/usr/bin/env python3\nimport os\n").interpreter == "/usr/bin/env python3");
  CHECK(sniff("#!/usr/bin/env -S node --max-old-space-size=64\n").interpreter ==
        "/usr/bin/env node");
  CHECK(sniff("#!/usr/bin/env LANG=C perl -w\n").interpreter == "/usr/bin/env perl");
  CHECK(sniff("#!/usr/bin/env\n").interpreter == "/usr/bin/env");
  // No newline within the prefix: the interpreter is what was seen.
  std::string long_script = "#!/bin/sh " + std::string(600, 'x');
  CHECK(sniff(long_script).interpreter == "/bin/sh");
  // Not a script: "#" alone, and a shebang-less text file leaves the interpreter empty.
  auto text = sniff("# comment\n");
  CHECK(text.cls == ContentClass::text);
  CHECK(text.interpreter.empty());
}

TEST_CASE("sniff: private keys and certificates generated with OpenSSL") {
  auto key = make_key("ED25519");
  REQUIRE(key);
  std::unique_ptr<BIO, BioFree> kb(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr));
  std::string key_pem = bio_string(kb.get());
  REQUIRE(key_pem.find("-----BEGIN PRIVATE KEY-----") == 0);
  CHECK(sniff(key_pem).cls == ContentClass::private_key);

  // An encrypted PKCS#8 key is still a private key.
  std::unique_ptr<BIO, BioFree> eb(BIO_new(BIO_s_mem()));
  const char pass[] = "secret";
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(eb.get(), key.get(), EVP_aes_128_cbc(), pass,
                                        static_cast<int>(std::strlen(pass)), nullptr, nullptr));
  std::string enc = bio_string(eb.get());
  REQUIRE(enc.find("ENCRYPTED PRIVATE KEY") != std::string::npos);
  CHECK(sniff(enc).cls == ContentClass::private_key);

  auto cert = make_cert(key.get());
  std::unique_ptr<BIO, BioFree> cb(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(cb.get(), cert.get()));
  std::string cert_pem = bio_string(cb.get());
  CHECK(sniff(cert_pem).cls == ContentClass::certificate);

  // A bundle: certificate first, key after it, within the prefix -> the key wins.
  CHECK(sniff(cert_pem + key_pem).cls == ContentClass::private_key);
  // "Bag Attributes" preambles (openssl pkcs12 output) put the key further in.
  CHECK(sniff("Bag Attributes\n    localKeyID: 01 02\n" + key_pem).cls ==
        ContentClass::private_key);

  // DER certificate: sized exactly by its outer SEQUENCE.
  unsigned char* der = nullptr;
  int der_len = i2d_X509(cert.get(), &der);
  REQUIRE(der_len > 0);
  std::string der_bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  CHECK(sniff(der_bytes).cls == ContentClass::certificate);
  CHECK(sniff(der_bytes, der_bytes.size() + 10).cls == ContentClass::binary);

  // An RSA certificate is longer than 255 bytes: two-byte DER lengths.
  std::unique_ptr<EVP_PKEY, PkeyFree> rsa(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048)));
  REQUIRE(rsa);
  auto rsa_cert = make_cert(rsa.get(), EVP_sha256());
  der = nullptr;
  der_len = i2d_X509(rsa_cert.get(), &der);
  REQUIRE(der_len > 255);
  std::string rsa_der(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  CHECK(static_cast<unsigned char>(rsa_der[1]) == 0x82);
  CHECK(sniff(rsa_der).cls == ContentClass::certificate);
  std::unique_ptr<BIO, BioFree> rb(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_PrivateKey(rb.get(), rsa.get(), nullptr, nullptr, 0, nullptr, nullptr));
  CHECK(sniff(bio_string(rb.get())).cls == ContentClass::private_key);
}

TEST_CASE("sniff: key headers of other formats") {
  CHECK(sniff("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n").cls ==
        ContentClass::private_key);
  CHECK(sniff("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n").cls == ContentClass::private_key);
  CHECK(sniff("-----BEGIN EC PRIVATE KEY-----\nMHcC\n").cls == ContentClass::private_key);
  CHECK(sniff("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQ\n").cls == ContentClass::private_key);
  CHECK(sniff("PuTTY-User-Key-File-3: ssh-ed25519\n").cls == ContentClass::private_key);
  // Public keys are not secrets.
  CHECK(sniff("-----BEGIN PUBLIC KEY-----\nMCow\n").cls == ContentClass::text);
  CHECK(sniff("ssh-ed25519 AAAAC3Nza user@host\n").cls == ContentClass::text);
  // A real CA bundle on this machine, when present.
  if (auto ca = sniff_file("/etc/ssl/certs/ca-certificates.crt"))
    CHECK(ca->cls == ContentClass::certificate);
}

TEST_CASE("sniff: archives") {
  CHECK(sniff(std::string("PK\x03\x04\x14\x00", 6)).cls == ContentClass::archive);
  CHECK(sniff(std::string("\x1f\x8b\x08\x00\x00\x00", 6)).cls == ContentClass::archive);
  CHECK(sniff(std::string("\x28\xb5\x2f\xfd\x04\x00", 6)).cls == ContentClass::archive);
  CHECK(sniff(std::string("\xfd"
                          "7zXZ\0\0\x04",
                          8))
            .cls == ContentClass::archive);
  CHECK(sniff(std::string("BZh91AY&SY\x01\x02", 12)).cls == ContentClass::archive);
  CHECK(sniff("!<arch>\ndebian-binary   ").cls == ContentClass::archive);
  CHECK(sniff("BZh9 is not bzip2 data\n").cls == ContentClass::text);
  std::string tar(1024, '\0');
  std::memcpy(tar.data(), "etc/passwd", 10);
  std::memcpy(tar.data() + 257,
              "ustar\0"
              "00",
              8);
  CHECK(sniff(tar).cls == ContentClass::archive);
  std::string gnu_tar(512, '\0');
  std::memcpy(gnu_tar.data() + 257, "ustar  \0", 8);
  CHECK(sniff(gnu_tar).cls == ContentClass::archive);
}

TEST_CASE("sniff: empty, text and binary") {
  std::string interp = "x";
  CHECK(sniff_content(nullptr, 0, 0, interp) == ContentClass::empty);
  CHECK(interp.empty());
  CHECK(sniff_content(nullptr, 0, 10, interp) == ContentClass::none);
  CHECK(sniff("hello world\n").cls == ContentClass::text);
  CHECK(sniff("caf\xc3\xa9 \xe2\x82\xac\n").cls == ContentClass::text);
  // A multi-byte character cut by the end of the prefix is still text...
  std::string cut = std::string(sniff_prefix_size - 1, 'a') + "\xe2\x82\xac";
  CHECK(sniff(cut, cut.size()).cls == ContentClass::text);
  // ...but invalid UTF-8 inside the prefix is not.
  CHECK(sniff("abc\xff\xfe def").cls == ContentClass::binary);
  CHECK(sniff(std::string("abc\0def", 7)).cls == ContentClass::binary);
  CHECK(sniff(std::string("\x01\x02\x03\x04", 4)).cls == ContentClass::binary);
  if (auto passwd = sniff_file("/etc/passwd")) CHECK(passwd->cls == ContentClass::text);
}
