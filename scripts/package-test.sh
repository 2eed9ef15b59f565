#!/usr/bin/env bash
# Builds the Debian package, installs it as a user would (apt resolves its Depends), checks the
# installed binary, man page and shell completions, runs the demo against /usr/bin/evalkeep, and
# removes the package again.
# Usage: scripts/package-test.sh [BUILD_DIR]   (default: build; needs root or sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
fail() { echo "package-test: $*" >&2; exit 1; }

if dpkg-query -W -f='${Status}' evalkeep 2>/dev/null | grep -q "install ok installed"; then
  fail "evalkeep is already installed as a package; remove it first (dpkg -r evalkeep)"
fi
make --no-print-directory package BUILD="$build"
version=$(sed -n 's/^project(evalkeep VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb=$(realpath "$build/evalkeep_${version}_$(dpkg --print-architecture).deb")
[ -f "$deb" ] || fail "no package at $deb"

removed=0
uninstall() {
  [ "$removed" -eq 1 ] || $sudo dpkg -r evalkeep >/dev/null
  removed=1
}
trap uninstall EXIT
echo "installing $deb" >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$deb" \
  >"$build/package-install.log" 2>&1 || fail "apt-get install failed; see $build/package-install.log"

echo "checking the installed files" >&2
[ "$(/usr/bin/evalkeep --version)" = "evalkeep $version" ] || fail "evalkeep --version"
depends=$(dpkg-query -W -f='${Depends}' evalkeep)
for d in git libcurl4 libc6 libsqlite3-0 libstdc++6; do
  [[ ", $depends," == *", $d"[\ ,]* ]] || fail "Depends lacks $d: $depends"
done
if grep -qs '^path-exclude=*/usr/share/man/' /etc/dpkg/dpkg.cfg.d/*; then
  # Slim container images tell dpkg to skip man pages: check the package holds it instead.
  dpkg-deb -c "$deb" | grep -q ' ./usr/share/man/man1/evalkeep.1.gz$' || fail "no man page"
  echo "dpkg here skips /usr/share/man; the man page is in the package" >&2
else
  [ "$(man -w evalkeep)" = /usr/share/man/man1/evalkeep.1.gz ] || fail "man -w evalkeep"
  MANPAGER=cat MANWIDTH=100 man evalkeep 2>/dev/null | grep -q '^   evalkeep runs list$' ||
    fail "the man page has no section for 'evalkeep runs list'"
fi

# bash-completion loads the script on first use of the command, as an interactive shell would.
words=$(bash -c 'source /usr/share/bash-completion/bash_completion
  _completion_loader evalkeep
  COMP_WORDS=(evalkeep runs l); COMP_CWORD=2; _evalkeep; echo "${COMPREPLY[*]}"')
[ "$words" = list ] || fail "bash completion of 'evalkeep runs l' gave '$words'"
# zsh finds _evalkeep on its default fpath once compinit runs.
zdump=$(mktemp)
comp=$(zsh -c "autoload -Uz compinit && compinit -u -d $zdump && print \${_comps[evalkeep]}")
rm -f "$zdump"
[ "$comp" = _evalkeep ] || fail "zsh does not load _evalkeep (got '$comp')"
words=$(fish -c 'complete -C "evalkeep runs l"' | cut -f1)
[ "$words" = list ] || fail "fish completion of 'evalkeep runs l' gave '$words'"

echo "running the demo against /usr/bin/evalkeep" >&2
EVALKEEP_STANDIN=$(realpath "$build/evalkeep-standin") bash scripts/demo.sh /usr/bin/evalkeep \
  >"$build/package-demo.log" 2>&1 || fail "the demo failed; see $build/package-demo.log"

uninstall
[ ! -e /usr/bin/evalkeep ] || fail "/usr/bin/evalkeep is still there after dpkg -r"
echo "package-test: $(basename "$deb") installs, works and uninstalls cleanly" >&2
