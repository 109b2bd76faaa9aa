#!/bin/sh
# Run the vsmmu libFuzzer targets (tests/fuzz/vsmmu-fuzz.c) and print, per
# target and in total:
#   fuzz: <target>: execs=<n> crashes=<n> timeouts=<n> cov=<edges>
#   fuzz: total: execs=<n> crashes=<n> timeouts=<n>
# Exit status 1 if anything crashed or timed out (one input > 1 s).
#
#   fuzz.sh QEMU_SAN_BUILD SECONDS JOBS TARGET...
#
# Each target runs for SECONDS in libFuzzer's fork mode with JOBS worker
# processes (crashes and timeouts are counted and saved, fuzzing goes on),
# starting from the committed corpus tests/fuzz/corpus/<target> (never
# written) plus what earlier runs found in build/fuzz/<target>/corpus.
# Findings: build/fuzz/<target>/artifacts/{crash,timeout,leak,oom}-*;
# the whole log: build/fuzz/<target>/log. docs/testing.md says how to
# read, minimise and turn a finding into a test.
set -u
build=$(cd "$1" && pwd); seconds=$2; jobs=$3; shift 3
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/qemu-fuzz-aarch64
out=$top/build/fuzz

# Sanitizer reports are crashes. Leaks are checked at exit by
# make check-sanitize (the corpus replay), not per input: QEMU's
# allocations do not balance within one input (bottom halves, caches,
# reset), so libFuzzer's per-input check would run LeakSanitizer on most
# inputs and cut the speed twentyfold (-detect_leaks=0 below).
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$top/tests/fuzz/lsan.supp:print_suppressions=0"
export SIMHOST_LIB="${SIMHOST_LIB:-$top/build/simhost/libsimhost.so}"

total_execs=0 total_crashes=0 total_timeouts=0
for t in "$@"; do
    dir=$out/$t
    mkdir -p "$dir/corpus" "$dir/artifacts"
    before=$(find "$dir/artifacts" -type f | wc -l)
    # -timeout=1: an input running for more than a second is a hang
    "$bin" --fuzz-target="$t" -fork="$jobs" \
        -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -timeout=1 -rss_limit_mb=4096 -max_len=4096 -detect_leaks=0 \
        -max_total_time="$seconds" -print_final_stats=1 \
        -dict="$top/tests/fuzz/vsmmu.dict" \
        -artifact_prefix="$dir/artifacts/" \
        "$dir/corpus" "$top/tests/fuzz/corpus/$t" > "$dir/log" 2>&1
    # fork mode's status lines:
    # "#<execs>: cov: <c> ft: <f> corp: … oom/timeout/crash: o/t/c time: …"
    last=$(grep -E '^#[0-9]+: cov: ' "$dir/log" | tail -n 1)
    execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\):.*/\1/p')
    cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\) .*/\1/p')
    otc=$(printf '%s\n' "$last" |
          sed -n 's|.*oom/timeout/crash: \([0-9]*/[0-9]*/[0-9]*\).*|\1|p')
    ooms=${otc%%/*}; rest=${otc#*/}
    timeouts=${rest%%/*}; crashes=${rest#*/}
    : "${execs:=0}" "${cov:=0}" "${ooms:=0}" "${timeouts:=0}" "${crashes:=0}"
    # out-of-memory and leaks count as crashes
    crashes=$((crashes + ooms))
    new=$(( $(find "$dir/artifacts" -type f | wc -l) - before ))
    if [ "$((crashes + timeouts))" -eq 0 ] && [ "$new" -gt 0 ]; then
        crashes=$new        # e.g. a leak report, not in the status line
    fi
    if [ -z "$last" ]; then
        echo "fuzz: $t: no status line from libFuzzer (see $dir/log):"
        tail -n 5 "$dir/log" | sed 's/^/  /'
        crashes=$((crashes + 1))
    fi
    echo "fuzz: $t: execs=$execs crashes=$crashes timeouts=$timeouts" \
         "cov=$cov"
    total_execs=$((total_execs + execs))
    total_crashes=$((total_crashes + crashes))
    total_timeouts=$((total_timeouts + timeouts))
done
echo "fuzz: total: execs=$total_execs crashes=$total_crashes" \
     "timeouts=$total_timeouts"
[ "$((total_crashes + total_timeouts))" -eq 0 ]
