// Rank, world and master address from torchrun / faceforge launch / SLURM variables; SLURM list syntax.
#include "src/dist/rendezvous.h"

#include <cstdlib>
#include <limits>
#include <optional>

#include "src/util/error.h"

namespace ff::dist {

namespace {

// Plain decimal digits only: a sign, spaces or a unit in a launcher variable is a mistake worth reporting.
std::optional<long long> parse_digits(const std::string& text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

int parse_at_least(const std::string& name, const std::string& text, int minimum) {
  auto value = parse_digits(text);
  if (!value || *value < minimum || *value > std::numeric_limits<int>::max())
    fail("{}: expected a {} integer, got '{}'", name, minimum == 0 ? "non-negative" : "positive", text);
  return static_cast<int>(*value);
}

int parse_port(const std::string& name, const std::string& text) {
  auto value = parse_digits(text);
  if (!value || *value < 1 || *value > 65535) fail("{}: expected a port in 1..65535, got '{}'", name, text);
  return static_cast<int>(*value);
}

// Top-level comma split: commas inside "[...]" belong to a range list.
std::vector<std::string> split_outside_brackets(const std::string& text) {
  std::vector<std::string> parts(1);
  int depth = 0;
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

// The first value of a bracket body such as "01-04,07", as written (padding kept); checks every entry.
std::string first_of_ranges(const std::string& nodelist, const std::string& body) {
  if (body.empty()) fail("SLURM node list '{}': empty brackets '[]'", nodelist);
  std::string first;
  for (const std::string& entry : split_outside_brackets(body)) {
    size_t dash = entry.find('-');
    std::string low = entry.substr(0, dash);
    std::string high = dash == std::string::npos ? low : entry.substr(dash + 1);
    auto lo = parse_digits(low), hi = parse_digits(high);
    if (!lo || !hi)
      fail("SLURM node list '{}': '{}' in brackets is not a number or a range like 01-04", nodelist, entry);
    if (*hi < *lo) fail("SLURM node list '{}': range '{}' runs backwards", nodelist, entry);
    if (first.empty()) first = low;
  }
  return first;
}

std::string first_host_of(const std::string& nodelist, const std::string& item) {
  if (item.empty()) fail("SLURM node list '{}': has an empty host name", nodelist);
  std::string host;
  size_t i = 0;
  while (i < item.size()) {
    char c = item[i];
    if (c == ']') fail("SLURM node list '{}': ']' without a matching '['", nodelist);
    if (c != '[') {
      host += c;
      ++i;
      continue;
    }
    size_t close = item.find_first_of("[]", i + 1);
    if (close == std::string::npos || item[close] != ']')
      fail("SLURM node list '{}': '[' is never closed", nodelist);
    host += first_of_ranges(nodelist, item.substr(i + 1, close - i - 1));
    i = close + 1;
  }
  return host;
}

// A launcher variable, with "" read as unset (an `export RANK=` clears it for a shell user).
std::optional<std::string> variable(const std::function<const char*(const char*)>& getenv_fn, const char* name) {
  const char* value = getenv_fn(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

Rendezvous from_torchrun(const std::function<const char*(const char*)>& env) {
  auto rank_text = variable(env, "RANK");
  auto world_text = variable(env, "WORLD_SIZE");
  if (!world_text) fail("RANK is set but WORLD_SIZE is not");
  if (!rank_text) fail("WORLD_SIZE is set but RANK is not");
  Rendezvous r;
  r.launcher = "torchrun";
  r.world = parse_at_least("WORLD_SIZE", *world_text, 1);
  r.rank = parse_at_least("RANK", *rank_text, 0);
  if (r.rank >= r.world) fail("RANK {} is not below WORLD_SIZE {}", r.rank, r.world);
  // Without the local variables the launch is taken as one node holding ranks in order.
  auto local_world_text = variable(env, "LOCAL_WORLD_SIZE");
  r.local_world = local_world_text ? parse_at_least("LOCAL_WORLD_SIZE", *local_world_text, 1) : r.world;
  if (r.local_world > r.world)
    fail("LOCAL_WORLD_SIZE {} is more than WORLD_SIZE {}", r.local_world, r.world);
  auto local_rank_text = variable(env, "LOCAL_RANK");
  r.local_rank = local_rank_text ? parse_at_least("LOCAL_RANK", *local_rank_text, 0) : r.rank % r.local_world;
  if (r.local_rank >= r.local_world)
    fail("LOCAL_RANK {} is not below LOCAL_WORLD_SIZE {}", r.local_rank, r.local_world);
  if (auto addr = variable(env, "MASTER_ADDR")) r.master_addr = *addr;
  if (auto port = variable(env, "MASTER_PORT")) r.master_port = parse_port("MASTER_PORT", *port);
  return r;
}

Rendezvous from_slurm(const std::function<const char*(const char*)>& env) {
  Rendezvous r;
  r.launcher = "slurm";
  r.rank = parse_at_least("SLURM_PROCID", *variable(env, "SLURM_PROCID"), 0);
  auto ntasks = variable(env, "SLURM_NTASKS");
  if (!ntasks) fail("SLURM_PROCID is set but SLURM_NTASKS is not");
  r.world = parse_at_least("SLURM_NTASKS", *ntasks, 1);
  if (r.rank >= r.world) fail("SLURM_PROCID {} is not below SLURM_NTASKS {}", r.rank, r.world);
  auto local_id = variable(env, "SLURM_LOCALID");
  if (!local_id) fail("SLURM_PROCID is set but SLURM_LOCALID is not");
  r.local_rank = parse_at_least("SLURM_LOCALID", *local_id, 0);

  const char* per_node_name = "SLURM_NTASKS_PER_NODE";
  auto per_node = variable(env, per_node_name);
  if (!per_node) {
    per_node_name = "SLURM_TASKS_PER_NODE";
    per_node = variable(env, per_node_name);
  }
  if (!per_node) fail("SLURM_PROCID is set but neither SLURM_NTASKS_PER_NODE nor SLURM_TASKS_PER_NODE is");
  std::vector<int> counts = expand_slurm_tasks_per_node(*per_node, per_node_name);
  bool uniform = true;
  for (int count : counts) uniform = uniform && count == counts.front();
  if (auto node_text = variable(env, "SLURM_NODEID"); node_text && counts.size() > 1) {
    int node = parse_at_least("SLURM_NODEID", *node_text, 0);
    if (node >= static_cast<int>(counts.size()))
      fail("SLURM_NODEID {} has no entry in {} '{}' ({} nodes)", node, per_node_name, *per_node, counts.size());
    r.local_world = counts[node];
  } else if (uniform) {
    r.local_world = counts.front();
  } else {
    fail("SLURM_NODEID is needed to pick this node's count from {} '{}'", per_node_name, *per_node);
  }
  if (r.local_rank >= r.local_world)
    fail("SLURM_LOCALID {} is not below this node's task count {} ({} '{}')", r.local_rank, r.local_world,
         per_node_name, *per_node);
  if (r.local_world > r.world)
    fail("this node's task count {} ({} '{}') is more than SLURM_NTASKS {}", r.local_world, per_node_name,
         *per_node, r.world);

  if (auto addr = variable(env, "MASTER_ADDR")) {
    r.master_addr = *addr;
  } else {
    const char* list_name = "SLURM_JOB_NODELIST";
    auto list = variable(env, list_name);
    if (!list) {
      list_name = "SLURM_NODELIST";
      list = variable(env, list_name);
    }
    if (list) {
      try {
        r.master_addr = first_slurm_host(*list);
      } catch (const Error& e) {
        fail("{}: {}", list_name, e.what());
      }
    } else if (r.world > 1) {
      fail("SLURM_PROCID is set but none of SLURM_JOB_NODELIST, SLURM_NODELIST or MASTER_ADDR is");
    }
  }
  if (auto port = variable(env, "MASTER_PORT")) r.master_port = parse_port("MASTER_PORT", *port);
  return r;
}

}  // namespace

const char* process_getenv(const char* name) { return std::getenv(name); }

Rendezvous rendezvous_from_env(const std::function<const char*(const char*)>& getenv_fn) {
  if (variable(getenv_fn, "RANK") || variable(getenv_fn, "WORLD_SIZE")) return from_torchrun(getenv_fn);
  if (variable(getenv_fn, "SLURM_PROCID")) return from_slurm(getenv_fn);
  return Rendezvous{};
}

std::string first_slurm_host(const std::string& nodelist) {
  if (nodelist.empty()) fail("SLURM node list is empty");
  int depth = 0;
  for (char c : nodelist) {
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    if (depth < 0) fail("SLURM node list '{}': ']' without a matching '['", nodelist);
    if (depth > 1) fail("SLURM node list '{}': brackets inside brackets", nodelist);
  }
  if (depth != 0) fail("SLURM node list '{}': '[' is never closed", nodelist);
  std::string first;
  for (const std::string& item : split_outside_brackets(nodelist)) {
    std::string host = first_host_of(nodelist, item);
    if (first.empty()) first = host;
  }
  return first;
}

std::vector<int> expand_slurm_tasks_per_node(const std::string& text, const std::string& what) {
  std::vector<int> counts;
  for (const std::string& item : split_outside_brackets(text)) {
    std::string count_text = item;
    long long repeat = 1;
    if (size_t open = item.find("(x"); open != std::string::npos && item.back() == ')') {
      count_text = item.substr(0, open);
      auto r = parse_digits(item.substr(open + 2, item.size() - open - 3));
      repeat = r ? *r : 0;
    }
    auto count = parse_digits(count_text);
    if (!count || *count < 1 || *count > std::numeric_limits<int>::max() || repeat < 1 || repeat > 1000000)
      fail("{}: expected task counts like '8' or '4(x2),3', got '{}'", what, text);
    counts.insert(counts.end(), static_cast<size_t>(repeat), static_cast<int>(*count));
  }
  return counts;
}

std::pair<std::string, int> parse_host_port(const std::string& text, const std::string& what) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) fail("{}: expected HOST:PORT, got '{}' (no port)", what, text);
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  // IPv6 literals carry colons of their own and come bracketed: [fe80::1]:29500.
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) fail("{}: expected HOST:PORT, got '{}' (no host)", what, text);
  if (host.find(':') != std::string::npos && text.front() != '[')
    fail("{}: expected HOST:PORT with an IPv6 host in brackets ([::1]:29500), got '{}'", what, text);
  auto value = parse_digits(port);
  if (!value || *value < 1 || *value > 65535)
    fail("{}: expected a port in 1..65535 after the last ':', got '{}' in '{}'", what, port, text);
  return {host, static_cast<int>(*value)};
}

}  // namespace ff::dist
