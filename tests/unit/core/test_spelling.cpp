#include "core/spelling.hpp"

#include <catch2/catch.hpp>

using namespace evalkeep::core;

TEST_CASE("edit distance counts inserts, deletes, substitutions and swapped neighbours", "[core]") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("", "list") == 4);
  CHECK(edit_distance("list", "list") == 0);
  CHECK(edit_distance("lst", "list") == 1);       // an insert
  CHECK(edit_distance("verifyy", "verify") == 1); // a delete
  CHECK(edit_distance("shiw", "show") == 1);      // a substitution
  CHECK(edit_distance("stauts", "status") == 1);  // a swap
  CHECK(edit_distance("--provder", "--provider") == 1);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("ca", "abc") == 3); // the optimal-string-alignment form: no edit after a swap
}

TEST_CASE("a typo is matched to the nearest command or flag, a stranger to none", "[core]") {
  std::vector<std::string> commands{"init",   "incident", "add", "list",   "show",
                                    "status", "runs",     "run", "retire", "reinstate"};
  CHECK(closest_spelling("stauts", commands) == "status");
  CHECK(closest_spelling("lst", commands) == "list");
  CHECK(closest_spelling("retier", commands) == "retire");
  CHECK(closest_spelling("rnus", commands) == "runs");
  CHECK(closest_spelling("ad", commands) == "add");
  CHECK_FALSE(closest_spelling("frobnicate", commands));
  CHECK_FALSE(closest_spelling("x", commands));
  CHECK_FALSE(closest_spelling("", commands));
  CHECK_FALSE(closest_spelling("list", commands)); // an exact match is no typo

  std::vector<std::string> flags{"--provider", "--model", "--judge", "-j", "--jobs", "--help"};
  CHECK(closest_spelling("--provder", flags) == "--provider");
  CHECK(closest_spelling("--jbos", flags) == "--jobs");
  CHECK_FALSE(closest_spelling("-x", flags)); // one letter says too little
  CHECK_FALSE(closest_spelling("--force", flags));
}

TEST_CASE("between equally near candidates the earlier one is suggested", "[core]") {
  CHECK(closest_spelling("rum", {"run", "rue"}) == "run");
  CHECK(closest_spelling("rum", {"rue", "run"}) == "rue");
}
