#pragma once

#include "providers/provider.hpp"

#include <string>

#include <nlohmann/json.hpp>

// Azure OpenAI: Chat Completions on a deployment. The body and the answers are OpenAI's; the URL,
// the key's header and the error bodies are Azure's.
namespace evalkeep::providers::azure {

/// The api-version sent when none is configured: the latest GA of the data plane inference API.
inline constexpr const char* k_default_api_version = "2024-10-21";

/// Azure's defaults and checks: base_url (the resource endpoint, https://NAME.openai.azure.com)
/// is required, the deployment defaults to the model, api_version to k_default_api_version, the
/// key variable to AZURE_OPENAI_API_KEY (AZURE_OPENAI_AD_TOKEN with entra_id).
Status finish_config(ProviderConfig& c);

/// {endpoint}/openai/deployments/{deployment}/chat/completions?api-version={api_version}
std::string url(const ProviderConfig& c);

/// A clear message from Azure's error object: its code ("DeploymentNotFound", "content_filter",
/// "429"), its message, and for a content filter the inner code and the categories it filtered.
/// `message` is the plain message when the body has no more to say.
std::string error_message(const nlohmann::json& body, const std::string& message);

} // namespace evalkeep::providers::azure
