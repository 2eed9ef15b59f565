# Timing helpers sourced by the benchmark scripts: wall-clock time from `date +%s%N`, no other
# tool needed.
now() { date +%s%N; }
us_since() { echo $((($(now) - $1) / 1000)); } # microseconds since a now() value
ms() { awk -v u="$1" 'BEGIN { printf "%.1f ms", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }
min() { if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi; }

# Times a command (stdout to /dev/null) $1 times and prints the best time in microseconds.
best_of() {
  local runs=$1 best="" t0 t
  shift
  for ((r = 0; r < runs; r++)); do
    t0=$(now)
    "$@" >/dev/null
    t=$(us_since "$t0")
    best=$(min "${best:-$t}" "$t")
  done
  echo "$best"
}
