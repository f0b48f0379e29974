#!/usr/bin/env bash
# Single-node Apache Cassandra 5.0 for tests, run from Maven Central jars (no tarball, no Docker).
#
#   scripts/cassandra.sh start    resolve jars if missing, wipe the work dir, launch in background
#   scripts/cassandra.sh stop     TERM the node we started, KILL after ~15 s; exit 0 if not running
#   scripts/cassandra.sh status   exit 0 if running, 1 if not
#   scripts/cassandra.sh logs     last 80 lines of system.log and stdout.log
#
# Readiness: `start` returns immediately; run scripts/wait_cassandra.py afterwards.
# Environment:
#   CASS_WORK       work dir (default <repo>/.cassandra/node1): data, commitlog, logs, pid file;
#                   start/stop/status/logs all act on the node of this work dir
#   CASS_NATIVE_PORT  CQL port (default 9042); CASS_STORAGE_PORT  internode port (default 7000).
#                   Other ports than the defaults run the node with a copy of cassandra.yaml in
#                   the work dir, so a second node (e.g. `make bench`'s) can run beside the tests'.
#   CASS_ADDRESS    listen and CQL (rpc) address (default 127.0.0.1)
#   CASS_SEEDS      seeds, "host[:port],..." (default CASS_ADDRESS:CASS_STORAGE_PORT)
#   CASS_DC, CASS_RACK  run GossipingPropertyFileSnitch with this datacenter and rack (a
#                   cassandra-rackdc.properties in the work dir); default SimpleSnitch
#   CASS_NUM_TOKENS tokens of the node (default 1, as cassandra.yaml)
#   CASS_AUTO_BOOTSTRAP  false: a fresh node joins without streaming (only for an empty cluster)
#   CASS_JMX_PORT   JMX on 127.0.0.1:PORT (default: no JMX, as before)
#                   Any of these (or other ports than the defaults) run the node with a copy of
#                   cassandra.yaml in the work dir; scripts/cluster.sh runs a cluster with them.
#   CASS_HEAP       max heap, -Xmx (default 1g); memtable space etc. are derived from it
#   CASS_HEAP_MIN   initial heap, -Xms (default 256m). Cassandra mlockall()s everything mapped
#                   at startup (it succeeds as root), so -Xms=-Xmx=1g would pin ~1.5 GB RSS.
#   CASS_FRESH      1 (default) wipes the work dir on start; 0 keeps data from the last run
#   CASSANDRA_JAVA  java binary (must be JDK 11 or 17; default Debian's OpenJDK 17)
#   CASS_VERSION    override the cassandra-all version pinned in tools/cassandra/pom.xml
#   CASS_JVM_OPTS   extra JVM options (word-split), appended last
# Everything generated lives under <repo>/.cassandra/ (jars in .cassandra/lib).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CONF=$ROOT/tools/cassandra
LIB=$ROOT/.cassandra/lib
W=${CASS_WORK:-$ROOT/.cassandra/node1}
case "$W" in /*) ;; *) W=$PWD/$W ;; esac
PIDF=$W/cassandra.pid
LOGD=$W/logs
NATIVE_PORT=${CASS_NATIVE_PORT:-9042}
STORAGE_PORT=${CASS_STORAGE_PORT:-7000}
[[ "$NATIVE_PORT" =~ ^[0-9]+$ && "$STORAGE_PORT" =~ ^[0-9]+$ ]] \
    || { echo "cassandra.sh: CASS_NATIVE_PORT and CASS_STORAGE_PORT must be numbers" >&2; exit 1; }
ADDRESS=${CASS_ADDRESS:-127.0.0.1}
[[ "$ADDRESS" =~ ^[0-9.]+$ ]] || { echo "cassandra.sh: CASS_ADDRESS must be an IPv4 address" >&2; exit 1; }
NUM_TOKENS=${CASS_NUM_TOKENS:-1}
[[ "$NUM_TOKENS" =~ ^[0-9]+$ ]] || { echo "cassandra.sh: CASS_NUM_TOKENS must be a number" >&2; exit 1; }

die() { echo "cassandra.sh: $*" >&2; exit 1; }

java_major() {   # "17.0.15" -> 17, "11.0.2" -> 11, "1.8.0_392" -> 1
  "$1" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print v[1]; exit }'
}

pick_java() {
  local cand m
  if [ -n "${CASSANDRA_JAVA:-}" ]; then
    [ -x "$CASSANDRA_JAVA" ] || die "CASSANDRA_JAVA=$CASSANDRA_JAVA is not executable"
    m=$(java_major "$CASSANDRA_JAVA")
    case "$m" in 11|17) echo "$CASSANDRA_JAVA"; return ;; esac
    die "Cassandra 5.0 needs JDK 11 or 17; CASSANDRA_JAVA is version $m"
  fi
  # Never the Temurin 25 JDK or whatever `java` on PATH is: only an 11/17 passes the check.
  for cand in /usr/lib/jvm/java-17-openjdk-amd64/bin/java /usr/lib/jvm/java-17-openjdk*/bin/java \
              /usr/lib/jvm/*-17*/bin/java /usr/lib/jvm/java-11-openjdk*/bin/java \
              /usr/lib/jvm/*-11*/bin/java; do
    [ -x "$cand" ] || continue
    m=$(java_major "$cand")
    case "$m" in 11|17) echo "$cand"; return ;; esac
  done
  die "no JDK 11 or 17 found (apt-get install openjdk-17-jdk-headless, or set CASSANDRA_JAVA)"
}

pinned_version() {
  if [ -n "${CASS_VERSION:-}" ]; then echo "$CASS_VERSION"; return; fi
  sed -n 's:.*<cassandra.version>\(.*\)</cassandra.version>.*:\1:p' "$CONF/pom.xml" | head -n1
}

resolve_jars() {   # idempotent; a marker file guards against a half-finished copy
  local ver marker
  ver=$(pinned_version)
  [ -n "$ver" ] || die "cannot read cassandra.version from $CONF/pom.xml"
  marker=$LIB/.resolved-$ver
  [ -f "$marker" ] && [ -f "$LIB/cassandra-all-$ver.jar" ] && return 0
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  echo "cassandra.sh: resolving cassandra-all $ver from Maven Central into $LIB ..." >&2
  rm -rf "$LIB"; mkdir -p "$LIB"
  local t0=$SECONDS
  local mlog=$ROOT/.cassandra/mvn.log
  if ! mvn -q -B -Dstyle.color=never -f "$CONF/pom.xml" -Dcassandra.version="$ver" \
       -Dcassandra.lib="$LIB" dependency:copy-dependencies >"$mlog" 2>&1; then
    cat "$mlog" >&2; die "maven could not resolve cassandra-all $ver (log: $mlog)"
  fi
  [ -f "$LIB/cassandra-all-$ver.jar" ] || die "cassandra-all-$ver.jar missing after mvn"
  touch "$marker"
  echo "cassandra.sh: resolved $(ls "$LIB"/*.jar | wc -l) jars in $((SECONDS - t0)) s" >&2
}

running_pid() {   # prints the pid if the pid file names a live CassandraDaemon
  local pid
  [ -f "$PIDF" ] || return 1
  pid=$(cat "$PIDF" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # guard against pid reuse: only a JVM running CassandraDaemon counts
  grep -qa 'org.apache.cassandra.service.CassandraDaemon' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  local java jamm pid ver
  if pid=$(running_pid); then die "already running (pid $pid); run '$0 stop' first"; fi
  java=$(pick_java)
  resolve_jars
  ver=$(pinned_version)
  jamm=$(ls "$LIB"/jamm-*.jar 2>/dev/null | head -n1)
  [ -n "$jamm" ] || die "jamm jar missing in $LIB"
  if (exec 3<>/dev/tcp/"$ADDRESS"/"$NATIVE_PORT") 2>/dev/null; then
    die "port $NATIVE_PORT on $ADDRESS is already in use (another Cassandra?)"
  fi

  if [ "${CASS_FRESH:-1}" = 1 ]; then rm -rf "$W"; fi
  mkdir -p "$W"/{data,commitlog,hints,saved_caches,logs,tmp,triggers}
  local yaml=$CONF/cassandra.yaml
  local -a props=()
  if [ "$NATIVE_PORT" != 9042 ] || [ "$STORAGE_PORT" != 7000 ] || [ "$ADDRESS" != 127.0.0.1 ] \
      || [ -n "${CASS_SEEDS:-}" ] || [ -n "${CASS_DC:-}" ] || [ "$NUM_TOKENS" != 1 ] \
      || [ -n "${CASS_AUTO_BOOTSTRAP:-}" ]; then
    yaml=$W/cassandra.yaml
    local seeds=${CASS_SEEDS:-$ADDRESS:$STORAGE_PORT} snitch=SimpleSnitch
    [[ "$seeds" =~ ^[0-9.:,]+$ ]] || die "CASS_SEEDS must be host[:port],... (IPv4)"
    [ -n "${CASS_DC:-}" ] && snitch=GossipingPropertyFileSnitch
    sed -e "s/^storage_port: 7000\$/storage_port: $STORAGE_PORT/" \
        -e "s/^native_transport_port: 9042\$/native_transport_port: $NATIVE_PORT/" \
        -e "s/^listen_address: 127.0.0.1\$/listen_address: $ADDRESS/" \
        -e "s/^rpc_address: 127.0.0.1\$/rpc_address: $ADDRESS/" \
        -e "s/^endpoint_snitch: SimpleSnitch\$/endpoint_snitch: $snitch/" \
        -e "s/^num_tokens: 1\$/num_tokens: $NUM_TOKENS/" \
        -e "s/- seeds: \"127.0.0.1\"/- seeds: \"$seeds\"/" \
        "$CONF/cassandra.yaml" >"$yaml"
    if [ -n "${CASS_AUTO_BOOTSTRAP:-}" ]; then
      [[ "$CASS_AUTO_BOOTSTRAP" =~ ^(true|false)$ ]] || die "CASS_AUTO_BOOTSTRAP must be true or false"
      echo "auto_bootstrap: $CASS_AUTO_BOOTSTRAP" >>"$yaml"
    fi
    grep -q "^native_transport_port: $NATIVE_PORT\$" "$yaml" \
        && grep -q "^storage_port: $STORAGE_PORT\$" "$yaml" \
        && grep -q "^listen_address: $ADDRESS\$" "$yaml" \
        && grep -q "^rpc_address: $ADDRESS\$" "$yaml" \
        && grep -q "^endpoint_snitch: $snitch\$" "$yaml" \
        && grep -q "^num_tokens: $NUM_TOKENS\$" "$yaml" \
        && grep -q -- "- seeds: \"$seeds\"" "$yaml" \
        || die "could not set the addresses, ports, seeds, snitch or tokens in $yaml"
    if [ -n "${CASS_DC:-}" ]; then
      printf 'dc=%s\nrack=%s\n' "$CASS_DC" "${CASS_RACK:-rack1}" >"$W/cassandra-rackdc.properties"
      props+=(-Dcassandra-rackdc.properties=file://"$W/cassandra-rackdc.properties")
    fi
  fi
  if [ -n "${CASS_JMX_PORT:-}" ]; then
    [[ "$CASS_JMX_PORT" =~ ^[0-9]+$ ]] || die "CASS_JMX_PORT must be a number"
    props+=(-Dcassandra.jmx.local.port="$CASS_JMX_PORT")
  fi
  local -a jpms=()
  mapfile -t jpms < <(grep -E '^-' "$CONF/jvm17.options")
  local heap=${CASS_HEAP:-1g} heap_min=${CASS_HEAP_MIN:-256m}
  local -a extra=()
  # shellcheck disable=SC2206
  [ -n "${CASS_JVM_OPTS:-}" ] && extra=($CASS_JVM_OPTS)

  local -a cmd=(
    "$java"
    -Xms"$heap_min" -Xmx"$heap" -XX:+ExitOnOutOfMemoryError
    -Djava.net.preferIPv4Stack=true
    "${jpms[@]}"
    -javaagent:"$jamm"
    -Dcassandra.config=file://"$yaml"
    "${props[@]}"
    -Dcassandra.storagedir="$W"
    -Dcassandra.logdir="$LOGD"
    -Dcassandra.triggers_dir="$W/triggers"
    -Dlogback.configurationFile="$CONF/logback.xml"
    -Dcassandra-foreground=yes                       # else activate() closes stdout/stderr
    # --- test-speed settings (not for benchmark numbers meant to compare with production) ---
    -Dcassandra.superuser_setup_delay_ms=0           # cassandra/cassandra exists right away (default 10 s)
    -Dcassandra.skip_wait_for_gossip_to_settle=0     # saves >= 5 s before CQL opens
    -Dcassandra.unsafesystem=true                    # no flush/fsync of system tables (also schema)
    -Dcassandra.auth_bcrypt_gensalt_log2_rounds=4    # cheap CREATE ROLE/login; hashes are $2a$04$...
    -Dcassandra.test.flush_local_schema_changes=false  # redundant with unsafesystem; harmless
    -Dcassandra.memtable.row_overhead_size=180       # skip the ~2 s jamm estimate (180 = computed value)
    -Dcassandra.shutdown_announce_in_ms=0            # stop: no 2 s gossip shutdown announce sleep
    -Dcassandra.test.messagingService.nonGracefulShutdown=true  # stop: no 2 s messaging quiesce
    -Dchronicle.announcer.disable=true
    # native libs (JNA, netty-epoll, snappy, lz4, zstd) unpack here, not in a maybe-noexec /tmp
    -Djava.io.tmpdir="$W/tmp" -Djna.tmpdir="$W/tmp" -Dio.netty.native.workdir="$W/tmp"
    "${extra[@]}"
    -cp "$LIB/*" org.apache.cassandra.service.CassandraDaemon
  )
  printf '%q ' "${cmd[@]}" >"$LOGD/cmdline"; echo >>"$LOGD/cmdline"
  (
    cd "$W"
    export MALLOC_ARENA_MAX=4
    exec nohup "${cmd[@]}" >"$LOGD/stdout.log" 2>&1 </dev/null
  ) &
  echo $! >"$PIDF"
  echo "cassandra.sh: started Cassandra $ver (pid $!, java $java, heap $heap, work dir $W)"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PIDF"; echo "cassandra.sh: not running"; return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true      # shutdown hook drains (a few seconds)
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "cassandra.sh: pid $pid did not exit after TERM, sending KILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$PIDF"
  echo "cassandra.sh: stopped (pid $pid)"
}

status() {
  local pid
  if pid=$(running_pid); then echo "running (pid $pid, work dir $W)"; return 0; fi
  echo "not running"; return 1
}

logs() {
  local f
  for f in "$LOGD/system.log" "$LOGD/stdout.log"; do
    echo "==> $f <=="
    if [ -f "$f" ]; then tail -n 80 "$f"; else echo "(missing)"; fi
  done
}

case "${1:-}" in
  start|stop|status|logs) "$1" ;;
  *) echo "usage: $0 start|stop|status|logs" >&2; exit 2 ;;
esac
