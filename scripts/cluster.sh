#!/usr/bin/env bash
# A multi-node Apache Cassandra 5.0 test cluster on loopback addresses, for tests/cluster/
# (docs/cluster.md). Each node is a scripts/cassandra.sh node with its own work dir, address,
# datacenter and rack:
#
#   node 1  127.0.0.11  dc1 r1  (the seed)      node 3  127.0.0.13  dc1 r3
#   node 2  127.0.0.12  dc1 r2                  node 4  127.0.0.14  dc2 r1
#
# (with CLUSTER_NODES=N: nodes 1..N-1 in dc1, racks r1..r3 in turn, node N in dc2; N < 3 is
# all dc1). CQL on port 9042 and internode on 7000 of each node's own address, never 127.0.0.1;
# JMX on 127.0.0.1:7210+N.
#
#   scripts/cluster.sh start          fresh cluster: the seed first, then the others at once;
#                                     returns when every node sees every other up
#   scripts/cluster.sh stop           stop every node; exit 0 if none was running
#   scripts/cluster.sh status         one line a node; exit 0 if all run, 1 otherwise
#   scripts/cluster.sh logs [N]       the tail of every node's logs (or node N's)
#   scripts/cluster.sh stop-node N    stop node N (TERM, as cassandra.sh stop)
#   scripts/cluster.sh kill-node N    SIGKILL node N (a crash)
#   scripts/cluster.sh start-node N   start node N again on its data; returns when the cluster
#                                     sees it up
#   scripts/cluster.sh env            the ALTERNATOR_TEST_CLUSTER value for tests/cluster
#
# Environment: CLUSTER_NODES (4), CLUSTER_HEAP (640m per node), CLUSTER_WAIT (readiness
# timeout in s, 240). Work dirs are .cassandra/cluster/nodeN; jars are cassandra.sh's.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NODES=${CLUSTER_NODES:-4}
[[ "$NODES" =~ ^[1-9]$ ]] || { echo "cluster.sh: CLUSTER_NODES must be 1..9" >&2; exit 2; }
BASE=$ROOT/.cassandra/cluster
PY=${VENV:-$ROOT/.venv}/bin/python
SEED=127.0.0.11

die() { echo "cluster.sh: $*" >&2; exit 1; }

address() { echo "127.0.0.$((10 + $1))"; }
datacenter() {
  if [ "$NODES" -ge 3 ] && [ "$1" = "$NODES" ]; then echo dc2; else echo dc1; fi
}
rack() {
  if [ "$(datacenter "$1")" = dc2 ]; then echo r1; else echo "r$(( ($1 - 1) % 3 + 1 ))"; fi
}
all_addresses() {
  local i out=()
  for i in $(seq 1 "$NODES"); do out+=("$(address "$i")"); done
  (IFS=,; echo "${out[*]}")
}

node() {   # node N ACTION [fresh]: scripts/cassandra.sh ACTION on node N
  local n=$1 action=$2
  [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le "$NODES" ] \
      || die "no node '$n' (nodes are 1..$NODES)"
  CASS_WORK=$BASE/node$n CASS_ADDRESS=$(address "$n") CASS_SEEDS=$SEED:7000 \
  CASS_DC=$(datacenter "$n") CASS_RACK=$(rack "$n") CASS_NUM_TOKENS=16 \
  CASS_AUTO_BOOTSTRAP=false CASS_JMX_PORT=$((7210 + n)) \
  CASS_HEAP=${CLUSTER_HEAP:-640m} CASS_HEAP_MIN=128m CASS_FRESH=${3:-1} \
  CASS_JVM_OPTS="-Dcassandra.ring_delay_ms=2000 -Dcassandra.consistent.rangemovement=false -XX:CICompilerCount=2 -XX:ParallelGCThreads=1 -XX:ConcGCThreads=1 ${CASS_JVM_OPTS:-}" \
      bash "$ROOT/scripts/cassandra.sh" "$action"
}

wait_ready() {   # wait_cluster.py with the nodes expected up
  CLUSTER_WAIT=${CLUSTER_WAIT:-240} "$PY" "$ROOT/scripts/wait_cluster.py" "$(all_addresses)" "$@"
}

wait_gossip() {   # the seed's internode port is open (before the others ask it for the ring)
  local t0=$SECONDS
  while ! (exec 3<>/dev/tcp/"$SEED"/7000) 2>/dev/null; do
    [ $((SECONDS - t0)) -lt 180 ] || die "the seed did not open its internode port in 180 s"
    node 1 status >/dev/null || { node 1 logs >&2; die "the seed died"; }
    sleep 0.5
  done
}

start() {
  local i t0=$SECONDS
  for i in $(seq 1 "$NODES"); do
    if node "$i" status >/dev/null; then die "node $i is already running; '$0 stop' first"; fi
  done
  mkdir -p "$BASE"
  node 1 start
  wait_gossip
  echo "cluster.sh: seed gossiping after $((SECONDS - t0)) s"
  for i in $(seq 2 "$NODES"); do node "$i" start; done
  if ! wait_ready --setup; then
    logs >&2 || true
    die "the cluster did not come up"
  fi
  echo "cluster.sh: $NODES nodes up after $((SECONDS - t0)) s ($(all_addresses))"
}

stop() {
  local i pids=()
  for i in $(seq 1 "$NODES"); do
    [ -d "$BASE/node$i" ] || continue
    node "$i" stop & pids+=($!)
  done
  local rc=0
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  return $rc
}

status() {
  local i rc=0
  for i in $(seq 1 "$NODES"); do
    printf 'node %s %s %s/%s: ' "$i" "$(address "$i")" "$(datacenter "$i")" "$(rack "$i")"
    if [ -d "$BASE/node$i" ]; then node "$i" status || rc=1; else echo "not running"; rc=1; fi
  done
  return $rc
}

logs() {
  local i
  for i in ${1:-$(seq 1 "$NODES")}; do
    echo "===== node $i ($(address "$i"))"
    node "$i" logs || true
  done
}

kill_node() {
  local pid
  pid=$(cat "$BASE/node$1/cassandra.pid" 2>/dev/null) || die "node $1 is not running"
  grep -qa CassandraDaemon "/proc/$pid/cmdline" 2>/dev/null || die "node $1 is not running"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -f "$BASE/node$1/cassandra.pid"
  echo "cluster.sh: killed node $1 (pid $pid)"
}

start_node() {
  local t0=$SECONDS
  [ -d "$BASE/node$1" ] || die "node $1 has no work dir; '$0 start' first"
  node "$1" start 0
  wait_ready || { logs "$1" >&2; die "node $1 did not come back"; }
  echo "cluster.sh: node $1 up again after $((SECONDS - t0)) s"
}

case "${1:-}" in
  start|stop|status) "$1" ;;
  logs) logs "${2:-}" ;;
  stop-node) node "${2:?node number}" stop ;;
  kill-node) node "${2:?node number}" status >/dev/null; kill_node "$2" ;;
  start-node) start_node "${2:?node number}" ;;
  env) all_addresses ;;
  *) echo "usage: $0 start|stop|status|logs [N]|stop-node N|kill-node N|start-node N|env" >&2
     exit 2 ;;
esac
