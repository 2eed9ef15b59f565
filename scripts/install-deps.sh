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
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# libcurl: Debian 12's 7.88 signs a Bedrock model id holding ':' (most of them) differently from
# AWS, which then refuses every request; libcurl 8.9 and newer sign it as AWS does. On Debian 12
# the tests take libcurl from Debian's bookworm-backports (and curl with it, which needs the same
# libcurl); where that archive cannot be reached they keep 7.88, and the test of those ids checks
# that evalkeep refuses them before any request instead.
curl_version=$(dpkg-query -W -f='${Version}' libcurl4-openssl-dev 2>/dev/null || true)
if [ "${1:-}" != demo ] && grep -q '^VERSION_CODENAME=bookworm' /etc/os-release &&
  dpkg --compare-versions "$curl_version" lt 8.9; then
  list=""
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    list=/etc/apt/sources.list.d/bookworm-backports.list
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $sudo tee "$list" >/dev/null
  fi
  wanted=(libcurl4-openssl-dev/bookworm-backports libcurl4/bookworm-backports)
  dpkg-query -W -f='${Status}' curl 2>/dev/null | grep -q "install ok installed" &&
    wanted+=(curl/bookworm-backports)
  echo "installing libcurl from bookworm-backports: ${wanted[*]}" >&2
  if ! { $sudo apt-get update -qq &&
    $sudo apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null; }; then
    echo "warning: bookworm-backports is out of reach; keeping libcurl $curl_version," \
      "which cannot sign Bedrock model ids holding ':'" >&2
    [ -z "$list" ] || $sudo rm -f "$list" # an archive out of reach would fail every later update
  fi
fi
