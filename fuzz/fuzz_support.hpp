#pragma once

// What the fuzz targets share: invariants that abort with a message, a fixed origin, and suite
// files built at start from JSONL (no database is committed), then damaged by the fuzzer's input.

#include "suite/ledger.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace evalkeep::fuzz {

/// Aborts, printing `what`, when `ok` is false: a broken invariant is a crash for the fuzzer.
void require(bool ok, std::string_view what);

/// The fuzzer's bytes as text.
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// "Fuzz <fuzz@example.com>" at 2026-05-01T10:00:00Z, outside any repository.
suite::Origin origin();

/// A private folder for this process's scratch files under TMPDIR, removed at exit.
const std::filesystem::path& scratch_dir();

/// The bytes of a suite file holding a small fixture (incidents, cases, a retirement) and then
/// `extra` (JSONL), built through the library.
std::string suite_bytes(std::string_view extra_jsonl = {});

/// Reads and writes whole files.
std::string read_bytes(const std::filesystem::path& p);
void write_bytes(const std::filesystem::path& p, std::string_view bytes);

/// Byte patches read from the fuzzer's input: per patch, one byte choosing the file, four bytes
/// of offset (little endian, taken modulo the file's size), one byte of length and the bytes to
/// write there. Applied to `files`, with the file chosen modulo their number.
void apply_patches(std::span<const std::uint8_t> data, std::vector<std::string*> files);

} // namespace evalkeep::fuzz
