#!/usr/bin/env bash
# Fuzzes the reader, the validator and the replay with libFuzzer for a bounded time.
#
#   scripts/fuzz.sh            # 10 minutes
#   scripts/fuzz.sh 60         # one minute
#
# The seed corpus is every trace in traces/ plus the regression inputs. A crash, a leak or a
# hang (10 s for one input) stops the run and leaves the input in .build-fuzz/artifacts/;
# copy it to Tests/PGTraceTests/Fixtures/fuzz/ so that FuzzRegressionTests replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
scratch=$PWD/.build-fuzz
mkdir -p "$scratch"
if ! swift build --package-path Fuzz --scratch-path "$scratch" -c debug --product pgtrace-fuzz \
    -Xswiftc -sanitize=fuzzer,address >"$scratch/build.log" 2>&1; then
    grep -E "error:" "$scratch/build.log" | grep -v "Cannot export" | head -20
    echo "fuzz: the fuzz target did not build (full log in $scratch/build.log)"
    exit 1
fi
binary=$(swift build --package-path Fuzz --scratch-path "$scratch" -c debug --show-bin-path)/pgtrace-fuzz
corpus=$scratch/corpus
mkdir -p "$corpus" "$scratch/artifacts"
cp traces/*.xml "$corpus"/
if compgen -G "Tests/PGTraceTests/Fixtures/fuzz/*" >/dev/null; then cp Tests/PGTraceTests/Fixtures/fuzz/* "$corpus"/; fi
echo "fuzzing for ${seconds}s with $(ls "$corpus" | wc -l) seed inputs"
"$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -dict=scripts/fuzz.dict -artifact_prefix="$scratch/artifacts/" -print_final_stats=1 2>&1 | tail -n 25
echo "fuzz: clean after ${seconds}s"
