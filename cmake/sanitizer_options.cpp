// Linked into the sanitizer build's programs (evalkeep_sanitizer_exit in CMakeLists.txt): a
// sanitizer report ends the process with exit 86, a code no evalkeep command uses, so a test that
// accepts a failed eval's exit 1 can never pass over a report.

extern "C" __attribute__((used, visibility("default"))) const char* __asan_default_options() {
  return "exitcode=86";
}

extern "C" __attribute__((used, visibility("default"))) const char* __ubsan_default_options() {
  return "exitcode=86:print_stacktrace=1";
}
