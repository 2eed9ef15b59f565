#pragma once

#include "core/error.hpp"

#include <curl/curl.h>

namespace evalkeep::providers {

/// The libcurl functions evalkeep uses, loaded with dlopen on first use. Commands that never
/// touch the network (add, list, verify, ...) then start without loading libcurl and the ~30
/// libraries it pulls in, which took most of evalkeep's start-up time.
struct CurlApi {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  CURLM* (*multi_init)();
  CURLMcode (*multi_setopt)(CURLM*, CURLMoption, ...);
  CURLMcode (*multi_add_handle)(CURLM*, CURL*);
  CURLMcode (*multi_remove_handle)(CURLM*, CURL*);
  CURLMcode (*multi_perform)(CURLM*, int*);
  CURLMcode (*multi_poll)(CURLM*, struct curl_waitfd[], unsigned int, int, int*);
  CURLMsg* (*multi_info_read)(CURLM*, int*);
  CURLMcode (*multi_wakeup)(CURLM*);
  CURLMcode (*multi_cleanup)(CURLM*);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
  unsigned version_num = 0; // the loaded libcurl's version, 0xXXYYZZ
  const char* version = ""; // ... as text, "7.88.1"
};

/// Loads libcurl (once, calling curl_global_init) and returns its functions. Call it from the
/// main thread before starting other threads.
Result<const CurlApi*> curl_api();

} // namespace evalkeep::providers
