#!/usr/bin/env bash
# Installs the Debian 12 packages evalkeep needs to build and test, when any is missing;
# `install-deps.sh demo` only those that building evalkeep and running the demo need.
# chromium: the end-to-end tests open the HTML reports in it (headless).
# dpkg-dev, man-db, bash-completion, zsh, fish: `make package` and the tests of the man page and
# shell completions. time: the reliability tests and benchmarks measure peak memory with GNU time.
# iproute2: bench/peer.sh runs in a network namespace with only loopback.
# clang-16, libclang-rt-16-dev: `make fuzz` (libFuzzer); clang 14 cannot compile std::expected.
# strace: a test watches the merge driver sync its result to disk.
# libvalijson-dev: JSON Schemas of is-json and contains-json; json-schema-test-suite: the tests check
# them against the official suite. nodejs: javascript assertions. python3: python assertions, and
# the example agent the demo runs (examples/agent).
set -euo pipefail
# catch2: CMake finds it when it configures the build, tests or not.
packages=(cmake g++ make git pkg-config ccache sqlite3 libsqlite3-dev libcli11-dev nlohmann-json3-dev
  libcurl4-openssl-dev libfmt-dev catch2 libssl-dev libtomlplusplus-dev libre2-dev libyaml-cpp-dev
  libvalijson-dev python3)
if [ "${1:-}" != demo ]; then
  packages+=(libxml2-utils chromium dpkg-dev man-db bash-completion zsh fish time iproute2 clang-16
    libclang-rt-16-dev strace json-schema-test-suite nodejs)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
