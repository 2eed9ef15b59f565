# `make package`: a Debian package of what `cmake --install` installs (the binary, its man page
# and shell completions), its dependencies found by dpkg-shlibdeps.
set(CPACK_GENERATOR DEB)
# Packaging needs only the binary and what it writes at build time, not the tests.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_PACKAGE_NAME evalkeep)
set(EVALKEEP_PACKAGE_CONTACT "evalkeep maintainers <evalkeep@localhost>" CACHE STRING
  "The Maintainer field of the Debian package")
set(CPACK_PACKAGE_CONTACT ${EVALKEEP_PACKAGE_CONTACT})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "keeps LLM eval cases in git, each linked to the incident it came from")
set(CPACK_PACKAGE_DESCRIPTION "evalkeep keeps a team's LLM eval cases in a SQLite suite committed
to git, links every case to the incident it came from, runs the cases against
models over HTTP, gates pull requests in CI, and refuses to delete a case unless
a retirement decision is recorded.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# git runs under every command that reads history; libcurl is loaded with dlopen when a command
# first calls a model, so dpkg-shlibdeps cannot see it.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "git, libcurl4")
set(CPACK_STRIP_FILES ON)
include(CPack)
