#!/usr/bin/env bash
# A standalone Spark cluster on this machine: one master and one worker, from the Spark that
# PySpark carries (pip install 'shuhui[spark]'), for the integration test and the benchmark.
#
#   scripts/spark-cluster.sh start [CORES] [MEMORY]   prints the master's URL (spark://…)
#   scripts/spark-cluster.sh status                   prints it if the cluster runs
#   scripts/spark-cluster.sh stop
#
# Then SHUHUI_ENGINE=spark SHUHUI_SPARK_MASTER=<url> shuhui rules run RULE. The processes'
# logs and PIDs are in $SHUHUI_SPARK_RUN (default /tmp/shuhui-spark-$UID).
set -euo pipefail
cd "$(dirname "$0")/.."

run_dir=${SHUHUI_SPARK_RUN:-/tmp/shuhui-spark-$(id -u)}
port=${SHUHUI_SPARK_PORT:-7077}
host=127.0.0.1
url="spark://${host}:${port}"
python=${PYTHON:-.venv/bin/python}

spark_home() {
  "$python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))'
}

alive() { [ -f "$run_dir/$1.pid" ] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }

listening() {
  "$python" - "$host" "$1" <<'EOF'
import socket, sys
with socket.socket() as s:
    s.settimeout(0.5)
    sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
EOF
}

# Waits until the master's log says the worker registered (the cluster can take jobs).
wait_for_worker() {
  for _ in $(seq 1 120); do
    grep -q "Registering worker" "$run_dir/master.log" 2>/dev/null && return 0
    alive worker || { echo "the Spark worker stopped; see $run_dir/worker.log" >&2; return 1; }
    sleep 0.5
  done
  echo "no Spark worker registered within 60 s; see $run_dir/*.log" >&2
  return 1
}

start() {
  local cores=${1:-2} memory=${2:-4g} home
  if alive master && alive worker; then
    echo "$url"
    return 0
  fi
  stop >/dev/null
  mkdir -p "$run_dir"
  home=$(spark_home)
  if [ -z "${JAVA_HOME:-}" ]; then
    JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    export JAVA_HOME
  fi
  export SPARK_HOME="$home" SPARK_LOCAL_IP="$host" SPARK_LOG_DIR="$run_dir"
  export SPARK_WORKER_DIR="$run_dir/work"
  # spark-class runs in the foreground: each process in the background, its PID kept.
  nohup "$home/bin/spark-class" org.apache.spark.deploy.master.Master \
    --host "$host" --port "$port" --webui-port "${SHUHUI_SPARK_UI_PORT:-8089}" \
    >"$run_dir/master.log" 2>&1 &
  echo $! >"$run_dir/master.pid"
  for _ in $(seq 1 60); do
    listening "$port" && break
    alive master || { echo "the Spark master did not start; see $run_dir/master.log" >&2; exit 1; }
    sleep 0.5
  done
  nohup "$home/bin/spark-class" org.apache.spark.deploy.worker.Worker \
    --host "$host" --cores "$cores" --memory "$memory" --webui-port 0 "$url" \
    >"$run_dir/worker.log" 2>&1 &
  echo $! >"$run_dir/worker.pid"
  wait_for_worker
  echo "$url"
}

stop() {
  for role in worker master; do
    if alive "$role"; then
      kill "$(cat "$run_dir/$role.pid")" 2>/dev/null || true
      for _ in $(seq 1 40); do alive "$role" || break; sleep 0.25; done
      alive "$role" && kill -9 "$(cat "$run_dir/$role.pid")" 2>/dev/null || true
    fi
    rm -f "$run_dir/$role.pid"
  done
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status)
    if alive master && alive worker; then echo "$url"; else echo "not running" >&2; exit 1; fi
    ;;
  *) echo "usage: $0 start [CORES] [MEMORY] | status | stop" >&2; exit 2 ;;
esac
