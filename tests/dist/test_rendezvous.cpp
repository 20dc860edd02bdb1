// Rendezvous from torchrun and SLURM variables, SLURM list syntax and HOST:PORT parsing, on hand-worked cases.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "src/dist/rendezvous.h"
#include "support.h"

using ff::test::error_of;

namespace {

// A fake environment: only the listed variables exist.
ff::dist::Rendezvous from(const std::map<std::string, std::string>& vars) {
  return ff::dist::rendezvous_from_env([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string error_from(const std::map<std::string, std::string>& vars) {
  return error_of([&] { from(vars); });
}

}  // namespace

TEST_CASE("rendezvous reads every torchrun variable", "[dist]") {
  auto r = from({{"RANK", "5"},
                 {"WORLD_SIZE", "8"},
                 {"LOCAL_RANK", "1"},
                 {"LOCAL_WORLD_SIZE", "4"},
                 {"MASTER_ADDR", "10.1.2.3"},
                 {"MASTER_PORT", "31234"}});
  CHECK(r.launcher == "torchrun");
  CHECK(r.rank == 5);
  CHECK(r.world == 8);
  CHECK(r.local_rank == 1);
  CHECK(r.local_world == 4);
  CHECK(r.master_addr == "10.1.2.3");
  CHECK(r.master_port == 31234);
}

TEST_CASE("rendezvous without local variables takes one node holding the ranks in order", "[dist]") {
  auto r = from({{"RANK", "2"}, {"WORLD_SIZE", "4"}});
  CHECK(r.launcher == "torchrun");
  CHECK(r.local_rank == 2);
  CHECK(r.local_world == 4);
  CHECK(r.master_addr == "127.0.0.1");
  CHECK(r.master_port == 29500);
  // Two per node: rank 3 is the second on its node.
  auto paired = from({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_WORLD_SIZE", "2"}});
  CHECK(paired.local_rank == 1);
  CHECK(paired.local_world == 2);
}

TEST_CASE("rendezvous reads SLURM srun variables with a compressed task count", "[dist]") {
  auto r = from({{"SLURM_PROCID", "5"},
                 {"SLURM_NTASKS", "8"},
                 {"SLURM_LOCALID", "1"},
                 {"SLURM_NODEID", "1"},
                 {"SLURM_TASKS_PER_NODE", "4(x2)"},
                 {"SLURM_JOB_NODELIST", "gpu[07-08]"}});
  CHECK(r.launcher == "slurm");
  CHECK(r.rank == 5);
  CHECK(r.world == 8);
  CHECK(r.local_rank == 1);
  CHECK(r.local_world == 4);
  CHECK(r.master_addr == "gpu07");
  CHECK(r.master_port == 29500);
}

TEST_CASE("rendezvous under SLURM: per-node counts, list fallbacks and MASTER_ overrides", "[dist]") {
  std::map<std::string, std::string> vars = {{"SLURM_PROCID", "4"},
                                             {"SLURM_NTASKS", "6"},
                                             {"SLURM_LOCALID", "0"},
                                             {"SLURM_NODEID", "1"},
                                             {"SLURM_TASKS_PER_NODE", "4,2"},
                                             {"SLURM_NODELIST", "a,b"}};
  auto uneven = from(vars);
  CHECK(uneven.local_world == 2);  // node 1's entry of "4,2"
  CHECK(uneven.master_addr == "a");

  vars["SLURM_NTASKS_PER_NODE"] = "3";  // asked for explicitly: wins over the step layout
  CHECK(from(vars).local_world == 3);

  vars["SLURM_JOB_NODELIST"] = "node[01-04,07],gpu2";  // the job's list wins over SLURM_NODELIST
  CHECK(from(vars).master_addr == "node01");

  vars["MASTER_ADDR"] = "ib-node01";
  vars["MASTER_PORT"] = "29777";
  auto overridden = from(vars);
  CHECK(overridden.master_addr == "ib-node01");
  CHECK(overridden.master_port == 29777);
  CHECK(overridden.launcher == "slurm");
}

TEST_CASE("rendezvous prefers RANK and WORLD_SIZE over SLURM's", "[dist]") {
  auto r = from({{"RANK", "1"},
                 {"WORLD_SIZE", "2"},
                 {"SLURM_PROCID", "7"},
                 {"SLURM_NTASKS", "16"},
                 {"SLURM_LOCALID", "3"},
                 {"SLURM_TASKS_PER_NODE", "8(x2)"},
                 {"SLURM_JOB_NODELIST", "node[1-2]"}});
  CHECK(r.launcher == "torchrun");
  CHECK(r.rank == 1);
  CHECK(r.world == 2);
  CHECK(r.local_rank == 1);
  CHECK(r.local_world == 2);
  CHECK(r.master_addr == "127.0.0.1");
}

TEST_CASE("rendezvous with no launcher variables is a world of one", "[dist]") {
  auto r = from({{"MASTER_PORT", "1"}, {"RANK", ""}, {"SLURM_PROCID", ""}});
  CHECK(r.launcher == "none");
  CHECK(r.rank == 0);
  CHECK(r.world == 1);
  CHECK(r.local_rank == 0);
  CHECK(r.local_world == 1);
  CHECK(r.master_addr == "127.0.0.1");
  CHECK(r.master_port == 29500);
}

TEST_CASE("rendezvous names the variable and value it cannot use", "[dist]") {
  CHECK(error_from({{"RANK", "0"}, {"WORLD_SIZE", "two"}}) == "WORLD_SIZE: expected a positive integer, got 'two'");
  CHECK(error_from({{"RANK", "0"}, {"WORLD_SIZE", "0"}}) == "WORLD_SIZE: expected a positive integer, got '0'");
  CHECK(error_from({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}) == "RANK: expected a non-negative integer, got '-1'");
  CHECK(error_from({{"RANK", " 1"}, {"WORLD_SIZE", "2"}}) == "RANK: expected a non-negative integer, got ' 1'");
  CHECK(error_from({{"RANK", "3"}, {"WORLD_SIZE", "2"}}) == "RANK 3 is not below WORLD_SIZE 2");
  CHECK(error_from({{"RANK", "0"}}) == "RANK is set but WORLD_SIZE is not");
  CHECK(error_from({{"WORLD_SIZE", "2"}}) == "WORLD_SIZE is set but RANK is not");
  CHECK(error_from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}) ==
        "MASTER_PORT: expected a port in 1..65535, got '70000'");
  CHECK(error_from({{"RANK", "0"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"}}) ==
        "LOCAL_RANK 2 is not below LOCAL_WORLD_SIZE 2");
  CHECK(error_from({{"RANK", "0"}, {"WORLD_SIZE", "4"}, {"LOCAL_WORLD_SIZE", "8"}}) ==
        "LOCAL_WORLD_SIZE 8 is more than WORLD_SIZE 4");
  CHECK(error_from({{"RANK", "0"}, {"WORLD_SIZE", "99999999999"}}) ==
        "WORLD_SIZE: expected a positive integer, got '99999999999'");
}

TEST_CASE("rendezvous under SLURM names the variable and value it cannot use", "[dist]") {
  std::map<std::string, std::string> good = {{"SLURM_PROCID", "1"},
                                             {"SLURM_NTASKS", "8"},
                                             {"SLURM_LOCALID", "1"},
                                             {"SLURM_NODEID", "0"},
                                             {"SLURM_TASKS_PER_NODE", "4(x2)"},
                                             {"SLURM_JOB_NODELIST", "node[01-02]"}};
  auto with = [&](const std::string& key, const std::string& value) {
    auto vars = good;
    if (value.empty()) {
      vars.erase(key);
    } else {
      vars[key] = value;
    }
    return error_from(vars);
  };
  CHECK(with("SLURM_NTASKS", "") == "SLURM_PROCID is set but SLURM_NTASKS is not");
  CHECK(with("SLURM_NTASKS", "eight") == "SLURM_NTASKS: expected a positive integer, got 'eight'");
  CHECK(with("SLURM_PROCID", "8") == "SLURM_PROCID 8 is not below SLURM_NTASKS 8");
  CHECK(with("SLURM_LOCALID", "") == "SLURM_PROCID is set but SLURM_LOCALID is not");
  CHECK(with("SLURM_LOCALID", "4") ==
        "SLURM_LOCALID 4 is not below this node's task count 4 (SLURM_TASKS_PER_NODE '4(x2)')");
  CHECK(with("SLURM_TASKS_PER_NODE", "4(x)") ==
        "SLURM_TASKS_PER_NODE: expected task counts like '8' or '4(x2),3', got '4(x)'");
  CHECK(with("SLURM_TASKS_PER_NODE", "") ==
        "SLURM_PROCID is set but neither SLURM_NTASKS_PER_NODE nor SLURM_TASKS_PER_NODE is");
  CHECK(with("SLURM_NODEID", "2") == "SLURM_NODEID 2 has no entry in SLURM_TASKS_PER_NODE '4(x2)' (2 nodes)");
  CHECK(with("SLURM_JOB_NODELIST", "node[01-") == "SLURM_JOB_NODELIST: SLURM node list 'node[01-': '[' is never closed");
  CHECK(with("SLURM_JOB_NODELIST", "") ==
        "SLURM_PROCID is set but none of SLURM_JOB_NODELIST, SLURM_NODELIST or MASTER_ADDR is");
  CHECK(with("MASTER_PORT", "http") == "MASTER_PORT: expected a port in 1..65535, got 'http'");

  auto uneven = good;
  uneven["SLURM_TASKS_PER_NODE"] = "5,3";
  uneven.erase("SLURM_NODEID");
  CHECK(error_from(uneven) == "SLURM_NODEID is needed to pick this node's count from SLURM_TASKS_PER_NODE '5,3'");
}

TEST_CASE("first_slurm_host expands the first entry of a node list", "[dist]") {
  using ff::dist::first_slurm_host;
  CHECK(first_slurm_host("node[01-04,07],gpu2") == "node01");
  CHECK(first_slurm_host("gpu-a12") == "gpu-a12");
  CHECK(first_slurm_host("n[3-5]") == "n3");
  CHECK(first_slurm_host("a,b") == "a");
  CHECK(first_slurm_host("n[7,2-3]") == "n7");  // list order, not numeric order
  CHECK(first_slurm_host("r[2-3]-n[08-09]") == "r2-n08");
  CHECK(first_slurm_host("gpu[007-010].cluster") == "gpu007.cluster");
}

TEST_CASE("first_slurm_host rejects bad list syntax naming the list", "[dist]") {
  using ff::dist::first_slurm_host;
  CHECK(error_of([] { first_slurm_host("node[01-04"); }) == "SLURM node list 'node[01-04': '[' is never closed");
  CHECK(error_of([] { first_slurm_host("node01],b"); }) == "SLURM node list 'node01],b': ']' without a matching '['");
  CHECK(error_of([] { first_slurm_host("n[1-[2]]"); }) == "SLURM node list 'n[1-[2]]': brackets inside brackets");
  CHECK(error_of([] { first_slurm_host("n[]"); }) == "SLURM node list 'n[]': empty brackets '[]'");
  CHECK(error_of([] { first_slurm_host("a,n[5-3]"); }) == "SLURM node list 'a,n[5-3]': range '5-3' runs backwards");
  CHECK(error_of([] { first_slurm_host("n[a-b]"); }) ==
        "SLURM node list 'n[a-b]': 'a-b' in brackets is not a number or a range like 01-04");
  CHECK(error_of([] { first_slurm_host("a,,b"); }) == "SLURM node list 'a,,b': has an empty host name");
  CHECK(error_of([] { first_slurm_host(""); }) == "SLURM node list is empty");
}

TEST_CASE("SLURM task counts expand per node", "[dist]") {
  using ff::dist::expand_slurm_tasks_per_node;
  CHECK(expand_slurm_tasks_per_node("8", "X") == std::vector<int>{8});
  CHECK(expand_slurm_tasks_per_node("4(x2),3", "X") == std::vector<int>{4, 4, 3});
  CHECK(expand_slurm_tasks_per_node("1,2(x3)", "X") == std::vector<int>{1, 2, 2, 2});
  CHECK(error_of([] { expand_slurm_tasks_per_node("4(x2", "X"); }) ==
        "X: expected task counts like '8' or '4(x2),3', got '4(x2'");
  CHECK(error_of([] { expand_slurm_tasks_per_node("0", "X"); }) ==
        "X: expected task counts like '8' or '4(x2),3', got '0'");
}

TEST_CASE("parse_host_port splits HOST:PORT and names the option on errors", "[dist]") {
  using ff::dist::parse_host_port;
  CHECK(parse_host_port("10.0.0.5:1234", "--master") == std::pair<std::string, int>{"10.0.0.5", 1234});
  CHECK(parse_host_port("node01:29500", "--master") == std::pair<std::string, int>{"node01", 29500});
  CHECK(parse_host_port("[::1]:65535", "--master") == std::pair<std::string, int>{"::1", 65535});
  CHECK(error_of([] { parse_host_port("node01", "--master"); }) ==
        "--master: expected HOST:PORT, got 'node01' (no port)");
  CHECK(error_of([] { parse_host_port(":29500", "--master"); }) ==
        "--master: expected HOST:PORT, got ':29500' (no host)");
  CHECK(error_of([] { parse_host_port("node01:0", "--master"); }) ==
        "--master: expected a port in 1..65535 after the last ':', got '0' in 'node01:0'");
  CHECK(error_of([] { parse_host_port("node01:65536", "--master"); }) ==
        "--master: expected a port in 1..65535 after the last ':', got '65536' in 'node01:65536'");
  CHECK(error_of([] { parse_host_port("node01:", "--master"); }) ==
        "--master: expected a port in 1..65535 after the last ':', got '' in 'node01:'");
  CHECK(error_of([] { parse_host_port("fe80::1:29500", "--master"); }) ==
        "--master: expected HOST:PORT with an IPv6 host in brackets ([::1]:29500), got 'fe80::1:29500'");
}
