// `faceforge launch`: starts one node's worker processes with torchrun-style variables and supervises them.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace ff::dist {

struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master = "127.0.0.1:29500";  // HOST:PORT of rank 0's node
  double kill_grace_seconds = 10;          // after a worker fails: how long the others get before SIGTERM, then SIGKILL after as long again
  std::vector<std::string> command;        // worker argv (program + args); the CLI passes /proc/self/exe + the args after `--`
};

// Starts nproc_per_node workers (argv = command, looked up on PATH like execvp) with
// RANK = node_rank * nproc_per_node + local, WORLD_SIZE = nnodes * nproc_per_node, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT replacing any inherited values; the rest of the
// environment, the working directory and stdin are inherited. Waits for all of them.
//
// Output: each worker's stdout and stderr come back through pipes, line by line with "[rank N] " in front
// (stdout lines on stdout, stderr lines on stderr; see LinePrefixer). A worker that writes to a full pipe
// waits until the launcher has passed the bytes on, so nothing is dropped.
//
// Failure: when a worker exits non-zero or is killed by a signal, one line goes to stderr:
// "error: worker rank N (pid P) exited with code C" or "... was killed by signal S (SIGKILL)". After the
// first failure the others get kill_grace_seconds to finish on their own, then SIGTERM, then SIGKILL after
// as long again.
//
// Signals: SIGINT and SIGTERM sent to the launcher are forwarded to every worker still running, except a
// SIGINT typed at the terminal (Ctrl-C): the kernel already delivers that one to the whole foreground
// process group, workers included, and workers read a second SIGINT as more urgent than the first (a
// signal sent by a process to the whole group does reach them twice). After the first stop signal the
// workers are left to stop in their own time, since checkpointing can take longer than the grace period:
// failures after it start no countdown. A second stop signal is forwarded too and starts the countdown
// (grace, SIGTERM, grace, SIGKILL). Workers get SIGTERM if the launcher itself dies (PR_SET_PDEATHSIG,
// tied to the thread that called launch()).
// Handlers for SIGINT, SIGTERM, SIGCHLD and SIGPIPE (ignored, so a closed stdout reader cannot kill the
// launcher and orphan the workers) are installed only while launch() runs and restored afterwards;
// workers start with default dispositions and an empty signal mask. Workers stay in the launcher's
// process group and session, so a terminal's Ctrl-C or hangup reaches them too.
//
// Returns 0 when every worker exited 0, else the first failing worker's exit code (128 + signal number
// for a worker killed by a signal). Options are checked first (nproc_per_node >= 1, nnodes >= 1,
// 0 <= node_rank < nnodes, master HOST:PORT, kill_grace_seconds >= 0, command not empty) with one-line
// errors naming the option; a worker program that cannot be started exits 127 with the reason on its
// stderr. Only one launch() may run in a process at a time.
int launch(const LaunchOptions& options);

// The running binary's resolved path (/proc/self/exe), so workers run exactly this build whatever
// PATH or the working directory say. Fails with one line naming `who` when it cannot be resolved.
std::string this_program(const std::string& who);

// Turns one worker stream into whole prefixed lines. '\n', "\r\n" and a lone '\r' (a progress bar
// redrawing its line) each end a line; a '\r' that ends an empty line (the usual "\rtext" redraw) prints
// nothing, while an empty line ended by '\n' is kept. A line longer than 64 KiB comes out in 64 KiB pieces
// (a stream without newlines must not grow the launcher's memory without bound).
class LinePrefixer {
 public:
  explicit LinePrefixer(std::string prefix);
  // The lines completed by `bytes`, each as prefix + text + '\n'; an unfinished line is held back.
  std::string feed(std::string_view bytes);
  // The held-back partial line (prefix + text + '\n'), or "" when there is none; call at end of stream.
  std::string finish();

 private:
  std::string prefix_;
  std::string line_;
  bool after_cr_ = false;     // the last byte was '\r', so a '\n' right after it ends nothing new...
  bool cr_on_empty_ = false;  // ...unless that '\r' ended an empty line: then "\r\n" is an empty line
};

}  // namespace ff::dist
