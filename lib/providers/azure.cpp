#include "providers/azure.hpp"

#include <fmt/format.h>

namespace evalkeep::providers::azure {

using json = nlohmann::json;

namespace {

std::string string_field(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A deployment name goes into the path: letters, digits, '-', '_' and '.' only, so it cannot
// change the URL it is part of.
bool plain_segment(const std::string& s) {
  if (s.empty())
    return false;
  for (char ch : s)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
      return false;
  return true;
}

} // namespace

Status finish_config(ProviderConfig& c) {
  if (c.base_url.empty())
    return invalid("provider {}: an azure provider needs base_url, the resource's endpoint "
                   "(https://NAME.openai.azure.com)",
                   c.name);
  while (c.base_url.ends_with('/'))
    c.base_url.pop_back();
  if (c.base_url.ends_with("/openai"))
    return invalid("provider {}: base_url '{}' is the resource's endpoint, without /openai", c.name,
                   c.base_url);
  if (c.deployment.empty())
    c.deployment = c.model;
  if (c.model.empty())
    c.model = c.deployment;
  if (!c.deployment.empty() && !plain_segment(c.deployment))
    return invalid("provider {}: deployment '{}' may hold only letters, digits, '-', '_' and '.'",
                   c.name, c.deployment);
  if (c.api_version.empty())
    c.api_version = k_default_api_version;
  if (!plain_segment(c.api_version))
    return invalid("provider {}: api_version '{}' is not a version such as {}", c.name,
                   c.api_version, k_default_api_version);
  if (c.api_key_env.empty())
    c.api_key_env = c.entra_id ? "AZURE_OPENAI_AD_TOKEN" : "AZURE_OPENAI_API_KEY";
  return {};
}

std::string url(const ProviderConfig& c) {
  return fmt::format("{}/openai/deployments/{}/chat/completions?api-version={}", c.base_url,
                     c.deployment, c.api_version);
}

std::string error_message(const json& body, const std::string& message) {
  auto e = body.find("error");
  if (e == body.end() || !e->is_object())
    return message;
  std::string code = string_field(*e, "code");
  std::string out = message;
  // Azure's codes are words (DeploymentNotFound, content_filter) or the status again ("429",
  // "401"): only a word says more than the status line.
  bool word = !code.empty() && !std::isdigit(static_cast<unsigned char>(code.front()));
  if (word && out.find(code) == std::string::npos)
    out = fmt::format("{}: {}", code, out);
  auto inner = e->find("innererror");
  if (inner == e->end() || !inner->is_object())
    return out;
  std::string inner_code = string_field(*inner, "code");
  std::string filtered;
  if (auto r = inner->find("content_filter_result"); r != inner->end() && r->is_object())
    for (const auto& [category, result] : r->items())
      if (result.is_object() && result.value("filtered", false) == true) {
        std::string severity = string_field(result, "severity");
        filtered += fmt::format("{}{}{}", filtered.empty() ? "" : ", ", category,
                                severity.empty() ? "" : " (" + severity + ")");
      }
  if (!inner_code.empty() || !filtered.empty())
    out += fmt::format(" [{}{}{}]", inner_code, inner_code.empty() || filtered.empty() ? "" : ": ",
                       filtered.empty() ? "" : "filtered " + filtered);
  return out;
}

} // namespace evalkeep::providers::azure
