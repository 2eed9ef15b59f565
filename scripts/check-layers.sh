#!/usr/bin/env bash
# Fails when an #include crosses a boundary ARCHITECTURE.md draws: a module including one it may
# not use, or a third-party header outside the one place allowed to use it. Run by ctest.
set -uo pipefail
cd "$(dirname "$0")/.."

# What each module may include besides itself (ARCHITECTURE.md: core <- store, scoring, git,
# providers <- suite <- run, gate, interop <- report <- cli).
declare -A allowed=(
  [core]=""
  [store]="core"
  [scoring]="core"
  [git]="core"
  [providers]="core"
  [suite]="core store scoring git providers"
  [run]="core store scoring git providers suite"
  [gate]="core store scoring git providers suite"
  [interop]="core store scoring git providers suite"
  [report]="core store scoring git providers suite run gate"
  [cli]="core store scoring git providers suite run gate interop report"
)

# Third-party headers and the only files (path prefixes) that may include them.
declare -A only_in=(
  ["sqlite3.h"]="lib/store/"
  ["curl/"]="lib/providers/"
  ["CLI/"]="cli/"
  ["toml++/"]="lib/suite/workspace.cpp"
  ["re2/"]="lib/scoring/ lib/interop/template.cpp lib/interop/template_filters.cpp"
  ["valijson/"]="lib/scoring/schema.cpp"
  ["yaml-cpp/"]="lib/interop/yaml_tree.cpp"
  ["regex"]=""
)

problems=0
say() {
  echo "check-layers: $*" >&2
  problems=$((problems + 1))
}

for file in $(find lib cli -name '*.cpp' -o -name '*.hpp' | sort); do
  if [[ $file == cli/* ]]; then module=cli; else module=${file#lib/}; module=${module%%/*}; fi
  while IFS= read -r line; do
    if [[ $line =~ ^#include\ \"([a-z_]+)/ ]]; then
      dep=${BASH_REMATCH[1]}
      [[ $dep == "$module" ]] && continue
      [[ " ${allowed[$module]} " == *" $dep "* ]] ||
        say "$file: $module/ may not include $dep/ ($line)"
    elif [[ $line =~ ^#include\ \<([^\>]+)\> ]]; then
      header=${BASH_REMATCH[1]}
      for prefix in "${!only_in[@]}"; do
        [[ $header == "$prefix" || ($prefix == */ && $header == "$prefix"*) ]] || continue
        ok=0
        for place in ${only_in[$prefix]}; do
          [[ $file == "$place"* ]] && ok=1
        done
        [[ $ok == 1 ]] || say "$file: <$header> belongs only in ${only_in[$prefix]:-no file}"
      done
    fi
  done < <(grep -E '^#include' "$file")
done
# The runner loads libcurl through the providers' interface, never its own.
for file in lib/run/*; do
  grep -q '#include "providers/curl_api.hpp"' "$file" &&
    say "$file: run/ may not include providers/curl_api.hpp (use the providers' interface)"
done

if [[ $problems -gt 0 ]]; then
  echo "check-layers: $problems include(s) cross a boundary ARCHITECTURE.md draws" >&2
  exit 1
fi
echo "check-layers: every include stays within ARCHITECTURE.md's boundaries"
