#include "providers/curl_api.hpp"

#include <dlfcn.h>

namespace evalkeep::providers {

namespace {

Result<CurlApi> load() {
  void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (!lib)
    return with_hint(fail(ExitCode::environment, "cannot load libcurl: {}", ::dlerror()),
                     "install it: apt-get install libcurl4");
  CurlApi api{};
  bool missing = false;
  auto bind = [&](auto& fn, const char* name) {
    void* sym = ::dlsym(lib, name);
    missing = missing || !sym;
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(sym);
  };
  bind(api.global_init, "curl_global_init");
  bind(api.easy_init, "curl_easy_init");
  bind(api.easy_setopt, "curl_easy_setopt");
  bind(api.easy_getinfo, "curl_easy_getinfo");
  bind(api.easy_cleanup, "curl_easy_cleanup");
  bind(api.easy_strerror, "curl_easy_strerror");
  bind(api.multi_init, "curl_multi_init");
  bind(api.multi_setopt, "curl_multi_setopt");
  bind(api.multi_add_handle, "curl_multi_add_handle");
  bind(api.multi_remove_handle, "curl_multi_remove_handle");
  bind(api.multi_perform, "curl_multi_perform");
  bind(api.multi_poll, "curl_multi_poll");
  bind(api.multi_info_read, "curl_multi_info_read");
  bind(api.multi_wakeup, "curl_multi_wakeup");
  bind(api.multi_cleanup, "curl_multi_cleanup");
  bind(api.slist_append, "curl_slist_append");
  bind(api.slist_free_all, "curl_slist_free_all");
  curl_version_info_data* (*version_info)(CURLversion) = nullptr;
  bind(version_info, "curl_version_info");
  // 7.85 brought CURLOPT_PROTOCOLS_STR, which keeps requests to http and https.
  constexpr unsigned k_floor = 0x075500;
  auto* info = version_info ? version_info(CURLVERSION_NOW) : nullptr;
  if (missing || !info || info->version_num < k_floor)
    return with_hint(fail(ExitCode::environment,
                          "libcurl {} is too old: evalkeep needs 7.85 or newer",
                          info && info->version ? info->version : "(unknown version)"),
                     "upgrade libcurl4 (Debian 12 ships 7.88)");
  api.version_num = info->version_num;
  api.version = info->version ? info->version : "";
  if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return fail(ExitCode::environment, "curl_global_init failed");
  return api;
}

} // namespace

Result<const CurlApi*> curl_api() {
  static const Result<CurlApi> loaded = load(); // the lib stays loaded for the process
  if (!loaded)
    return std::unexpected(loaded.error());
  return &*loaded;
}

} // namespace evalkeep::providers
