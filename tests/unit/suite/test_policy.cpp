#include "suite/policy.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::suite;

namespace {

const PolicyChange* change_of(const std::vector<PolicyChange>& changes, const std::string& rule) {
  for (const auto& c : changes)
    if (c.rule == rule)
      return &c;
  return nullptr;
}

} // namespace

TEST_CASE("an approver list matches a name by its text or by its email address", "[suite]") {
  std::vector<std::string> list{"alice@example.com", "Bob <bob@example.com>"};
  CHECK(on_list(list, "alice@example.com"));
  CHECK(on_list(list, "Alice Liddell <Alice@Example.com>"));
  CHECK(on_list(list, "bob@example.com"));
  CHECK(on_list(list, "Bob <bob@example.com>"));
  CHECK_FALSE(on_list(list, "mallory@example.com"));
  CHECK_FALSE(on_list(list, "Alice"));
  CHECK_FALSE(on_list(list, ""));
}

TEST_CASE("a decision's approver is checked against every rule of the policy", "[suite]") {
  Policy open;
  CHECK_FALSE(approval_problem(open, "dana@example.com", std::nullopt));

  Policy required;
  required.require_approver = true;
  CHECK_THAT(approval_problem(required, "dana@example.com", std::nullopt).value_or(""),
             Catch::Contains("requires an approver"));
  CHECK_THAT(approval_problem(required, "Dana <dana@example.com>", "dana@example.com").value_or(""),
             Catch::Contains("differ from the decider"));
  CHECK_FALSE(approval_problem(required, "dana@example.com", "erin@example.com"));

  Policy last_guard;
  last_guard.require_approver_for_last_guard = true;
  CHECK_FALSE(approval_problem(last_guard, "dana@example.com", std::nullopt, false));
  CHECK_THAT(approval_problem(last_guard, "dana@example.com", std::nullopt, true).value_or(""),
             Catch::Contains("last live case"));

  Policy listed;
  listed.approvers = std::vector<std::string>{"erin@example.com"};
  CHECK_FALSE(approval_problem(listed, "dana@example.com", "Erin <erin@example.com>"));
  CHECK_THAT(approval_problem(listed, "dana@example.com", "anyone at all").value_or(""),
             Catch::Contains("not on the policy's list of approvers"));
}

TEST_CASE("switching a rule off or widening the approvers loosens a policy, the reverse tightens",
          "[suite]") {
  Policy base;
  base.require_approver = true;
  base.approvers = std::vector<std::string>{"erin@example.com"};

  Policy looser = base;
  looser.require_approver = false;
  looser.approvers->push_back("mallory@example.com");
  looser.allow_provider_changes = true;
  auto changes = policy_changes(base, looser);
  REQUIRE(changes.size() == 3);
  for (const auto& c : changes)
    CHECK(c.loosened);
  REQUIRE(change_of(changes, "require_approver"));
  CHECK(change_of(changes, "require_approver")->before == "true");
  CHECK(change_of(changes, "require_approver")->after == "false");

  Policy dropped_list = base;
  dropped_list.approvers.reset();
  REQUIRE(change_of(policy_changes(base, dropped_list), "approvers"));
  CHECK(change_of(policy_changes(base, dropped_list), "approvers")->loosened);

  Policy tighter = base;
  tighter.require_incident = true;
  tighter.approvers = std::vector<std::string>{};
  for (const auto& c : policy_changes(base, tighter))
    CHECK_FALSE(c.loosened);
  CHECK(policy_changes(base, base).empty());
}

TEST_CASE("the strictest of two policies keeps every rule either one sets", "[suite]") {
  Policy base;
  base.require_approver = true;
  base.approvers = std::vector<std::string>{"erin@example.com", "frank@example.com"};
  Policy head;
  head.require_incident = true;
  head.allow_provider_changes = true;
  head.approvers = std::vector<std::string>{"Frank <frank@example.com>", "mallory@example.com"};
  auto p = strictest(base, head);
  CHECK(p.require_approver);
  CHECK(p.require_incident);
  CHECK_FALSE(p.allow_provider_changes);
  REQUIRE(p.approvers);
  CHECK(*p.approvers == std::vector<std::string>{"frank@example.com"});
}

TEST_CASE("allowing a larger drop, demanding stronger evidence or dropping the strict rule for "
          "deterministic runs loosens a policy",
          "[suite]") {
  Policy base;
  base.max_drop = 0.02;
  Policy looser = base;
  looser.max_drop = 0.05;
  looser.alpha = 0.01;
  looser.strict_deterministic = false;
  auto changes = policy_changes(base, looser);
  for (const char* rule : {"max_drop", "alpha", "strict_deterministic"}) {
    INFO(rule);
    REQUIRE(change_of(changes, rule));
    CHECK(change_of(changes, rule)->loosened);
  }
  for (const auto& c : policy_changes(looser, base))
    CHECK_FALSE(c.loosened);
  auto strict = strictest(base, looser);
  CHECK(strict.max_drop == 0.02);
  CHECK(strict.alpha == 0.05);
  CHECK(strict.strict_deterministic);
}
