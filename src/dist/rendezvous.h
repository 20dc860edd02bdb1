// Who this process is in a multi-process run (rank, world, where rank 0 listens), read from the variables launchers set.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace ff::dist {

struct Rendezvous {
  int rank = 0, world = 1, local_rank = 0, local_world = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "none";  // none | torchrun (also faceforge launch) | slurm
};

// std::getenv, as the default source of rendezvous_from_env.
const char* process_getenv(const char* name);

// Reads the variables real launchers set. A variable set to the empty string counts as unset.
//
// torchrun and `faceforge launch` (chosen when RANK or WORLD_SIZE is set): RANK and WORLD_SIZE (both
// required), LOCAL_RANK and LOCAL_WORLD_SIZE (default: RANK and WORLD_SIZE, i.e. one node), MASTER_ADDR
// (default 127.0.0.1) and MASTER_PORT (default 29500). These win over any SLURM variables around them.
//
// SLURM (chosen when SLURM_PROCID is set; srun with one task per GPU): SLURM_PROCID, SLURM_NTASKS,
// SLURM_LOCALID, tasks on this node from SLURM_NTASKS_PER_NODE or else SLURM_TASKS_PER_NODE ("4(x2)",
// "4(x2),2": the entry of node SLURM_NODEID), master = MASTER_ADDR if set, else the first host of
// SLURM_JOB_NODELIST (or SLURM_NODELIST); port = MASTER_PORT if set, else 29500. Only srun sets
// SLURM_PROCID per task: the batch script itself sees SLURM_PROCID=0 with the whole job's SLURM_NTASKS,
// so start workers with srun.
//
// Neither: a world of one. Bad values fail naming the variable and the value, e.g.
// "WORLD_SIZE: expected a positive integer, got 'two'", "RANK 3 is not below WORLD_SIZE 2",
// "RANK is set but WORLD_SIZE is not".
Rendezvous rendezvous_from_env(const std::function<const char*(const char*)>& getenv_fn = process_getenv);

// The first host of a SLURM node list, with its zero padding kept: "node[01-04,07],gpu2" -> "node01",
// "gpu-a12" -> "gpu-a12", "n[3-5]" -> "n3", "a,b" -> "a", "r[2-3]-n[08-09]" -> "r2-n08". The whole list is
// checked; bad syntax (unbalanced brackets, empty names or ranges, a range that runs backwards) fails
// naming the list.
std::string first_slurm_host(const std::string& nodelist);

// Tasks on each node from SLURM's compressed count list: "4(x2),3" -> {4, 4, 3}. Fails naming `what`.
std::vector<int> expand_slurm_tasks_per_node(const std::string& text, const std::string& what);

// "host:port" -> {host, port}; "[::1]:29500" for IPv6 addresses (brackets removed). Fails naming the option
// `what` when the host or port is missing or the port is not in 1..65535.
std::pair<std::string, int> parse_host_port(const std::string& text, const std::string& what);

}  // namespace ff::dist
