# Timing helpers sourced by the benchmark scripts: wall-clock time from `date +%s%N`, and CPU and
# peak memory from /usr/bin/time (Debian package `time`) where `timed` finds it.
now() { date +%s%N; }
us_since() { echo $((($(now) - $1) / 1000)); } # microseconds since a now() value
ms() { awk -v u="$1" 'BEGIN { printf "%.1f ms", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
min() { if [ -z "$1" ] || [ "$2" -lt "$1" ]; then echo "$2"; else echo "$1"; fi; } # "" is none yet

# Times a command (stdout to /dev/null) $1 times and prints the best time in microseconds.
best_of() {
  local runs=$1 best="" t0 t
  shift
  for ((r = 0; r < runs; r++)); do
    t0=$(now)
    "$@" >/dev/null
    t=$(us_since "$t0")
    best=$(min "$best" "$t")
  done
  echo "$best"
}

# Runs a command once, stdout to OUT_FILE and stderr to OUT_FILE.err, and sets rc (its exit
# code), wall_ns (the whole process, from `date +%s%N` around it) and, under /usr/bin/time,
# cpu_s (user + sys) and rss_kib (peak resident set of the process); "-" without /usr/bin/time.
timed() { # OUT_FILE COMMAND...
  local out=$1 t0 user sys
  shift
  t0=$(now)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%e %U %S %M' -o "$out.time" "$@" >"$out" 2>"$out.err" && rc=0 || rc=$?
  else
    "$@" >"$out" 2>"$out.err" && rc=0 || rc=$?
  fi
  wall_ns=$(($(now) - t0))
  cpu_s="-"
  rss_kib="-"
  if [ -x /usr/bin/time ]; then
    read -r _ user sys rss_kib < <(tail -n 1 "$out.time")
    cpu_s=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  fi
}
