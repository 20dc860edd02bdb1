// `faceforge launch` with real worker processes: environment, exit codes, teardown, output prefixes, signals.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "src/dist/launcher.h"
#include "src/dist/rendezvous.h"
#include "support.h"

namespace fs = std::filesystem;
using ff::test::error_of;
using ff::test::TempDir;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The lines of one rank, in the order that rank wrote them (ranks interleave freely with each other).
std::vector<std::string> lines_of_rank(const std::string& text, int rank) {
  std::string prefix = "[rank " + std::to_string(rank) + "] ";
  std::vector<std::string> out;
  for (const std::string& line : lines_of(text))
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

// A worker command: `script` run by /bin/sh with the test folder as $0.
std::vector<std::string> sh(const std::string& script, const TempDir& dir) {
  return {"/bin/sh", "-c", script, dir.path().string()};
}

ff::dist::LaunchOptions options(int nproc, std::vector<std::string> command, double grace = 10) {
  ff::dist::LaunchOptions o;
  o.nproc_per_node = nproc;
  o.kill_grace_seconds = grace;
  o.command = std::move(command);
  return o;
}

// launch() in a forked child whose stdout/stderr go to files: the test process keeps its own output and
// signal dispositions, and the child's exit status is launch()'s return value.
pid_t start_launcher(const ff::dist::LaunchOptions& o, const TempDir& dir) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int out = ::open((dir / "launcher.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = ::open((dir / "launcher.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ::dup2(out, 1);
  ::dup2(err, 2);
  int code = 250;
  try {
    code = ff::dist::launch(o);
  } catch (const std::exception& e) {
    ::dprintf(2, "launch threw: %s\n", e.what());
  }
  ::_exit(code);
}

// The launcher's exit code, or -1 (after killing it) when it outlives `timeout_s`.
int wait_launcher(pid_t pid, double timeout_s = 8) {
  auto start = Clock::now();
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (seconds_since(start) > timeout_s) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

struct Captured {
  int code = -1;
  std::string out, err;
  double seconds = 0;
};

Captured run_launcher(const ff::dist::LaunchOptions& o, const TempDir& dir) {
  auto start = Clock::now();
  Captured c;
  c.code = wait_launcher(start_launcher(o, dir));
  c.seconds = seconds_since(start);
  c.out = read_text(dir / "launcher.out");
  c.err = read_text(dir / "launcher.err");
  return c;
}

// A worker's idle loop. Foreground sleeps: a trap then runs within 50 ms, and no background `sleep` can
// outlive the worker (dash can lose a `kill $!` sent while its child is still between fork and exec).
// It ends by itself after 20 s so a launcher bug cannot leave workers running forever.
const std::string kIdle = "i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done";

bool wait_for_files(const std::vector<fs::path>& paths, double timeout_s = 5) {
  auto start = Clock::now();
  while (seconds_since(start) < timeout_s) {
    bool all = true;
    for (const fs::path& p : paths) all = all && fs::exists(p);
    if (all) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::map<std::string, std::string> parse_env(const std::string& text) {
  std::map<std::string, std::string> vars;
  for (const std::string& line : lines_of(text)) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return vars;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void noop_handler(int) {}

}  // namespace

TEST_CASE("launch gives every worker its rank variables and the rest of the environment", "[dist]") {
  TempDir dir("launch-env");
  ::setenv("RANK", "99", 1);  // stale values from an outer launcher must be replaced
  ::setenv("FF_LAUNCH_TEST_MARKER", "kept", 1);
  struct sigaction mine {}, before {}, after {};
  mine.sa_handler = noop_handler;
  sigemptyset(&mine.sa_mask);
  ::sigaction(SIGTERM, &mine, &before);

  // Field 5 of /proc/PID/stat is the process group: Ctrl-C in a terminal must reach workers directly.
  auto o = options(2, sh("env > \"$0/env_$LOCAL_RANK\"; cut -d' ' -f5 /proc/$$/stat > \"$0/pgid_$LOCAL_RANK\"", dir));
  o.nnodes = 2;
  o.node_rank = 1;
  o.master = "10.0.0.5:1234";
  int code = ff::dist::launch(o);

  ::sigaction(SIGTERM, &before, &after);
  ::unsetenv("RANK");
  ::unsetenv("FF_LAUNCH_TEST_MARKER");
  CHECK(code == 0);
  CHECK(after.sa_handler == noop_handler);  // launch() put back the handler it found

  for (int local = 0; local < 2; ++local) {
    auto vars = parse_env(read_text(dir / ("env_" + std::to_string(local))));
    CHECK(vars["RANK"] == std::to_string(2 + local));
    CHECK(vars["WORLD_SIZE"] == "4");
    CHECK(vars["LOCAL_RANK"] == std::to_string(local));
    CHECK(vars["LOCAL_WORLD_SIZE"] == "2");
    CHECK(vars["MASTER_ADDR"] == "10.0.0.5");
    CHECK(vars["MASTER_PORT"] == "1234");
    CHECK(vars["FF_LAUNCH_TEST_MARKER"] == "kept");
    CHECK(read_text(dir / ("pgid_" + std::to_string(local))) == std::to_string(::getpgrp()) + "\n");
    // What a worker's own rendezvous makes of it.
    auto r = ff::dist::rendezvous_from_env([&](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    });
    CHECK(r.launcher == "torchrun");
    CHECK(r.rank == 2 + local);
    CHECK(r.world == 4);
    CHECK(r.local_rank == local);
    CHECK(r.local_world == 2);
    CHECK(r.master_addr == "10.0.0.5");
    CHECK(r.master_port == 1234);
  }
}

TEST_CASE("launch returns the first failing worker's code and terminates the others after the grace period", "[dist]") {
  TempDir dir("launch-fail");
  // Rank 1 fails once rank 0 is waiting with its TERM trap in place.
  auto o = options(2, sh("if [ \"$RANK\" = 1 ]; then"
                         "  while [ ! -e \"$0/ready_0\" ]; do sleep 0.02; done; exit 3; fi;"
                         "trap 'echo TERM > \"$0/term_$RANK\"; exit 0' TERM;"
                         ": > \"$0/ready_$RANK\"; " + kIdle,
                         dir),
                   0.3);
  Captured c = run_launcher(o, dir);
  CHECK(c.code == 3);
  CHECK(c.seconds < 5);
  CHECK(read_text(dir / "term_0") == "TERM\n");
  auto err = lines_of(c.err);
  REQUIRE(err.size() == 1);
  CHECK(starts_with(err[0], "error: worker rank 1 (pid "));
  CHECK(ends_with(err[0], ") exited with code 3"));
  CHECK(c.out.empty());
}

TEST_CASE("launch kills a worker that ignores SIGTERM once the second grace period ends", "[dist]") {
  TempDir dir("launch-kill");
  auto o = options(2, sh("if [ \"$RANK\" = 1 ]; then"
                         "  while [ ! -e \"$0/ready_0\" ]; do sleep 0.02; done; exit 4; fi;"
                         "trap '' TERM; : > \"$0/ready_0\"; exec sleep 20",
                         dir),
                   0.2);
  Captured c = run_launcher(o, dir);
  CHECK(c.code == 4);  // the first failure decides, not the worker killed afterwards
  CHECK(c.seconds < 5);
  auto err = lines_of(c.err);
  REQUIRE(err.size() == 2);
  CHECK(ends_with(err[0], ") exited with code 4"));
  CHECK(starts_with(err[1], "error: worker rank 0 (pid "));
  CHECK(ends_with(err[1], ") was killed by signal 9 (SIGKILL)"));
}

TEST_CASE("launch returns 128 plus the signal for a worker killed by a signal", "[dist]") {
  TempDir dir("launch-signal");
  Captured c = run_launcher(options(1, sh("kill -9 $$", dir)), dir);
  CHECK(c.code == 137);
  CHECK(starts_with(c.err, "error: worker rank 0 (pid "));
  CHECK(ends_with(c.err, ") was killed by signal 9 (SIGKILL)\n"));
}

TEST_CASE("launch reports a worker program that cannot be started", "[dist]") {
  TempDir dir("launch-missing");
  Captured c = run_launcher(options(1, {"/nonexistent/faceforge-worker", "train"}), dir);
  CHECK(c.code == 127);
  auto err = lines_of(c.err);
  REQUIRE(err.size() == 2);
  CHECK(err[0] == "[rank 0] error: cannot start '/nonexistent/faceforge-worker': No such file or directory");
  CHECK(ends_with(err[1], ") exited with code 127"));
}

TEST_CASE("launch prefixes each worker's stdout and stderr lines with its rank", "[dist]") {
  TempDir dir("launch-output");
  auto o = options(2, sh("printf 'out %s\\n' \"$RANK\"; printf 'step 1\\rstep 2\\r\\n';"
                         "printf 'err %s\\n' \"$RANK\" >&2; printf 'tail %s' \"$RANK\"",
                         dir));
  Captured c = run_launcher(o, dir);
  CHECK(c.code == 0);
  for (int rank = 0; rank < 2; ++rank) {
    std::string p = "[rank " + std::to_string(rank) + "] ";
    std::string r = std::to_string(rank);
    CHECK(lines_of_rank(c.out, rank) ==
          std::vector<std::string>{p + "out " + r, p + "step 1", p + "step 2", p + "tail " + r});
    CHECK(lines_of_rank(c.err, rank) == std::vector<std::string>{p + "err " + r});
  }
  CHECK(lines_of(c.out).size() == 8);
  CHECK(lines_of(c.err).size() == 2);
  CHECK(ends_with(c.out, "\n"));
}

TEST_CASE("LinePrefixer ends lines at newlines and carriage returns however the bytes are split", "[dist]") {
  const std::string stream = "abc\nd\r\n\r\n\rx\ry\n\ntail";
  const std::string expected = "P abc\nP d\nP \nP x\nP y\nP \n";
  ff::dist::LinePrefixer whole("P ");
  CHECK(whole.feed(stream) == expected);
  CHECK(whole.finish() == "P tail\n");
  CHECK(whole.finish().empty());

  ff::dist::LinePrefixer bytewise("P ");
  std::string out;
  for (char c : stream) out += bytewise.feed(std::string(1, c));
  CHECK(out == expected);
  CHECK(bytewise.finish() == "P tail\n");

  ff::dist::LinePrefixer long_line("");
  std::string first_piece(65536, 'z'), rest_piece(70000 - 65536, 'z');
  first_piece += '\n';
  rest_piece += '\n';
  CHECK(long_line.feed(std::string(70000, 'z')) == first_piece);
  CHECK(long_line.finish() == rest_piece);
}

TEST_CASE("launch forwards SIGTERM to every worker", "[dist]") {
  TempDir dir("launch-term");
  auto o = options(2, sh("trap 'echo TERM >> \"$0/got_$RANK\"; exit 0' TERM;"
                         ": > \"$0/ready_$RANK\"; " + kIdle,
                         dir));
  pid_t launcher = start_launcher(o, dir);
  REQUIRE(wait_for_files({dir / "ready_0", dir / "ready_1"}));
  ::kill(launcher, SIGTERM);
  CHECK(wait_launcher(launcher) == 0);
  CHECK(read_text(dir / "got_0") == "TERM\n");
  CHECK(read_text(dir / "got_1") == "TERM\n");
}

// Rank 1 stops at once with code 5; rank 0 needs `ticks` x 50 ms to "checkpoint" after SIGTERM.
std::vector<std::string> slow_stopper(const TempDir& dir, int ticks) {
  return sh("if [ \"$RANK\" = 1 ]; then trap 'exit 5' TERM;"
            "else trap 'n=0; while [ $n -lt " + std::to_string(ticks) + " ]; do sleep 0.05; n=$((n+1)); done;"
            ": > \"$0/done_0\"; exit 0' TERM; fi;"
            ": > \"$0/ready_$RANK\"; " + kIdle,
            dir);
}

TEST_CASE("launch lets workers finish stopping after a stop signal even when one exits non-zero", "[dist]") {
  TempDir dir("launch-stop");
  pid_t launcher = start_launcher(options(2, slow_stopper(dir, 20), 0.1), dir);
  REQUIRE(wait_for_files({dir / "ready_0", dir / "ready_1"}));
  ::kill(launcher, SIGTERM);
  CHECK(wait_launcher(launcher) == 5);
  CHECK(fs::exists(dir / "done_0"));  // not cut short by the 0.1 s grace
  auto err = lines_of(read_text(dir / "launcher.err"));
  REQUIRE(err.size() == 1);
  CHECK(ends_with(err[0], ") exited with code 5"));
}

TEST_CASE("launch starts the kill countdown on a second stop signal", "[dist]") {
  TempDir dir("launch-hurry");
  auto start = Clock::now();
  pid_t launcher = start_launcher(options(2, slow_stopper(dir, 100), 0.1), dir);
  REQUIRE(wait_for_files({dir / "ready_0", dir / "ready_1"}));
  ::kill(launcher, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(launcher, SIGTERM);
  CHECK(wait_launcher(launcher) == 5);
  CHECK(seconds_since(start) < 4);
  CHECK_FALSE(fs::exists(dir / "done_0"));
  auto err = lines_of(read_text(dir / "launcher.err"));
  REQUIRE(err.size() == 2);
  CHECK(ends_with(err[1], ") was killed by signal 9 (SIGKILL)"));
}

TEST_CASE("workers get SIGTERM when the launcher itself is killed", "[dist]") {
  TempDir dir("launch-orphan");
  pid_t launcher = start_launcher(options(2, sh("trap 'echo TERM > \"$0/got_$RANK\"; exit 0' TERM;"
                                                ": > \"$0/ready_$RANK\"; " + kIdle,
                                                dir)),
                                  dir);
  REQUIRE(wait_for_files({dir / "ready_0", dir / "ready_1"}));
  ::kill(launcher, SIGKILL);
  CHECK(wait_launcher(launcher) == -2);
  CHECK(wait_for_files({dir / "got_0", dir / "got_1"}));
}

TEST_CASE("launch does not repeat a terminal's Ctrl-C but forwards a SIGINT sent to it", "[dist]") {
  TempDir dir("launch-int");
  // Workers in a session of their own: the terminal's SIGINT cannot reach them, so any SIGINT they record
  // came from the launcher (two SIGINTs in quick succession would merge into one trap run otherwise).
  auto command = sh("trap 'echo INT >> \"$0/int_$RANK\"' INT; trap 'exit 0' TERM;"
                    ": > \"$0/ready_$RANK\"; " + kIdle,
                    dir);
  command.insert(command.begin(), "/usr/bin/setsid");
  auto o = options(2, command, 5);
  // The launcher runs on a pseudo-terminal as its foreground process group, like an interactive shell job.
  std::fflush(nullptr);
  int master = -1;
  pid_t launcher = ::forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(launcher >= 0);
  if (launcher == 0) {
    int out = ::open((dir / "launcher.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(out, 2);
    int code = 250;
    try {
      code = ff::dist::launch(o);
    } catch (const std::exception&) {
    }
    ::_exit(code);
  }
  REQUIRE(wait_for_files({dir / "ready_0", dir / "ready_1"}));
  REQUIRE(::write(master, "\x03", 1) == 1);  // Ctrl-C: the tty driver sends SIGINT to the launcher's group
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // room for a wrongly forwarded copy
  CHECK_FALSE(fs::exists(dir / "int_0"));
  CHECK_FALSE(fs::exists(dir / "int_1"));

  ::kill(launcher, SIGINT);  // from a process, not the terminal: the workers have not seen this one
  CHECK(wait_for_files({dir / "int_0", dir / "int_1"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(read_text(dir / "int_0") == "INT\n");
  CHECK(read_text(dir / "int_1") == "INT\n");

  ::kill(launcher, SIGTERM);
  CHECK(wait_launcher(launcher) == 0);
  ::close(master);
}

TEST_CASE("launch refuses bad options naming the option", "[dist]") {
  auto base = options(1, {"/bin/true"});
  auto with = [&](auto change) {
    auto o = base;
    change(o);
    return error_of([&] { ff::dist::launch(o); });
  };
  using O = ff::dist::LaunchOptions;
  CHECK(with([](O& o) { o.nproc_per_node = 0; }) == "--nproc-per-node: expected at least 1, got 0");
  CHECK(with([](O& o) { o.nnodes = 0; }) == "--nnodes: expected at least 1, got 0");
  CHECK(with([](O& o) {
          o.nnodes = 2;
          o.node_rank = 2;
        }) == "--node-rank: expected 0..1 (below --nnodes 2), got 2");
  CHECK(with([](O& o) { o.node_rank = -1; }) == "--node-rank: expected 0..0 (below --nnodes 1), got -1");
  CHECK(with([](O& o) { o.kill_grace_seconds = -1; }) == "--kill-grace: expected seconds >= 0, got -1");
  CHECK(with([](O& o) { o.command.clear(); }) ==
        "launch: the worker command is empty (expected a program and its arguments)");
  CHECK(with([](O& o) { o.master = "node01"; }) == "--master: expected HOST:PORT, got 'node01' (no port)");
  CHECK(ff::dist::launch(base) == 0);
}
