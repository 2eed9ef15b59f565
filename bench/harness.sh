# What the benchmarks that run cases share: a scratch directory, a suite in a fresh git
# repository, and the stand-in model server (tests/standin). Source it after setting `evalkeep`
# and `standin` (the two binaries), then call make_work. start_standin sets `port`. Uses curl for
# the stand-in's control endpoints when installed, bash's /dev/tcp otherwise.
standin_pid=""
port=""
work=""

# Creates the scratch directory `work` under $TMPDIR and, on exit, stops the stand-in and removes
# the directory (KEEP=1 keeps it).
make_work() { # NAME
  work="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  trap remove_work EXIT
  trap 'exit 130' INT TERM
}
remove_work() {
  stop_standin
  if [ "${KEEP:-0}" = 1 ]; then
    echo "keeping $work" >&2
  else
    rm -rf "$work"
  fi
}

# A fresh git repository in DIR holding an empty suite.
init_repo() { # DIR
  mkdir -p "$1"
  git -C "$1" init -q
  git -C "$1" config user.name "evalkeep bench"
  git -C "$1" config user.email "bench@example.invalid"
  (cd "$1" && "$evalkeep" -q init >/dev/null)
}

stop_standin() {
  if [ -n "$standin_pid" ]; then
    kill "$standin_pid" 2>/dev/null || true
    wait "$standin_pid" 2>/dev/null || true
    standin_pid=""
  fi
}

# Starts a fresh stand-in on a free port of 127.0.0.1, each reply delayed LATENCY_MS; any further
# arguments are passed on (e.g. --rules FILE). Exits 3 if it does not come up.
start_standin() { # LATENCY_MS [FLAGS...]
  stop_standin
  rm -f "$work/port"
  "$standin" --port 0 --port-file "$work/port" --latency-ms "$@" >"$work/standin.out" \
    2>"$work/standin.err" &
  standin_pid=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$work/port" ] && break
    if ! kill -0 "$standin_pid" 2>/dev/null; then
      echo "$0: the stand-in exited: $(cat "$work/standin.err")" >&2
      exit 3
    fi
    sleep 0.1
  done
  if [ ! -s "$work/port" ]; then
    echo "$0: the stand-in did not write its port file" >&2
    exit 3
  fi
  port=$(cat "$work/port")
}

# One HTTP/1.1 request to the stand-in's control endpoints, body on stdout.
standin_http() { # METHOD PATH
  if command -v curl >/dev/null 2>&1; then
    curl -sS --fail -X "$1" "http://127.0.0.1:$port$2"
    return
  fi
  local reply
  exec 9<>"/dev/tcp/127.0.0.1/$port"
  printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' \
    "$1" "$2" >&9
  reply=$(cat <&9)
  exec 9>&-
  printf '%s' "${reply#*$'\r\n\r\n'}"
}

reset_stats() { standin_http POST /__reset >/dev/null; }

# The model requests counted since the last reset_stats, from GET /__stats.
standin_requests() {
  standin_http GET /__stats | grep -o '"requests":[0-9]*' | head -n 1 | cut -d : -f 2
}

# "ANSWERED LIMITED": the model requests since the last reset_stats answered 200 and 429, from
# GET /__log.
standin_statuses() {
  standin_http GET /__log | grep -o '"status":[0-9]*' |
    awk -F : '$2 == 200 { ok++ } $2 == 429 { limited++ } END { printf "%d %d\n", ok, limited }'
}
