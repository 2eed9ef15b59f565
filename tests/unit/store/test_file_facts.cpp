#include "store/database.hpp"
#include "store/file_facts.hpp"
#include "support/temp_dir.hpp"

#include <chrono>
#include <sys/stat.h>

#include <catch2/catch.hpp>

using namespace evalkeep;
using store::FileFacts;

TEST_CASE("inspect_file tells folders, FIFOs and devices from files without blocking", "[store]") {
  test::TempDir dir;
  auto fifo = dir / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto started = std::chrono::steady_clock::now();
  auto f = store::inspect_file(fifo);
  REQUIRE(f);
  CHECK(f->type == FileFacts::Type::fifo);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  CHECK(store::describe(f->type) == "a FIFO (named pipe)");

  auto folder = store::inspect_file(dir.path());
  REQUIRE(folder);
  CHECK(folder->type == FileFacts::Type::directory);
  auto device = store::inspect_file("/dev/null");
  REQUIRE(device);
  CHECK(device->type == FileFacts::Type::character_device);
  auto missing = store::inspect_file(dir / "nothing-here");
  REQUIRE(missing);
  CHECK(missing->type == FileFacts::Type::missing);
}

TEST_CASE("inspect_file reads an SQLite file's header: size, identity and WAL mode", "[store]") {
  test::TempDir dir;
  auto path = dir / "x.db";
  {
    auto db = store::Database::open(path, store::OpenMode::create);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA application_id = 1163283283; PRAGMA user_version = 7; "
                     "CREATE TABLE t (x); INSERT INTO t VALUES (1)"));
  }
  auto f = store::inspect_file(path);
  REQUIRE(f);
  CHECK(f->type == FileFacts::Type::regular);
  CHECK(f->sqlite);
  CHECK_FALSE(f->wal);
  CHECK(f->application_id == 1163283283u);
  CHECK(f->user_version == 7);
  REQUIRE(f->header_bytes);
  CHECK(*f->header_bytes == f->size);

  {
    auto db = store::Database::open(path, store::OpenMode::read_write);
    REQUIRE(db);
    REQUIRE(db->exec("PRAGMA journal_mode = WAL"));
  }
  auto w = store::inspect_file(path);
  REQUIRE(w);
  CHECK(w->wal);

  auto text = dir / "notes.txt";
  test::write_file(text, std::string(300, 'n'));
  auto t = store::inspect_file(text);
  REQUIRE(t);
  CHECK(t->type == FileFacts::Type::regular);
  CHECK_FALSE(t->sqlite);
  CHECK(t->size == 300);
}
