#!/usr/bin/env bash
# Fuzzes pgtrace's readers, the validator and the replay with libFuzzer for a bounded time.
#
#   scripts/fuzz.sh                          # the XML reader, debug build, 10 minutes
#   scripts/fuzz.sh 60                       # one minute
#   scripts/fuzz.sh --target text 300        # the text importer (ftrace, trace-cmd, perf)
#   scripts/fuzz.sh --release --target xml   # an optimized build (what users run)
#
# Targets (Fuzz/Package.swift):
#   xml   pgtrace-fuzz: trace format v1 through the reader, the schema validator and the replay.
#         Seeds: every trace in traces/ plus the regression inputs.
#   text  pgtrace-fuzz-text: a kernel text trace through the importer (strict and lenient), the
#         reader and the replay, and the importer's XML through the validating reader.
#         Seeds: Tests/PGTraceTests/Fixtures/import/*.txt, ../shared/captures/*.txt if that
#         directory exists (cut to their first 16 KiB, the -max_len of this target), and
#         the .txt regression inputs.
#   summary  pgtrace-fuzz-summary: a summary through the reader, the merge, the graph checks and
#         every report; what merges is written again and must read back to the same bytes.
#         Seeds: Tests/PGTraceTests/Fixtures/fuzz-summary/*.sum (summaries of shipped traces).
#
# Builds go to .build-fuzz (debug) or .build-fuzz-release (-c release), both with
# -sanitize=fuzzer,address, never to .build. A crash, a leak or a hang (10 s for one input)
# stops the run, leaves the input in <scratch>/artifacts/ (named <target>-crash-…,
# <target>-leak-…, <target>-timeout-…) and makes the script exit 1. Copy an XML input to
# Tests/PGTraceTests/Fixtures/fuzz/ so that FuzzRegressionTests replays it; a text input
# reproduces with `pgtrace analyze FILE` or `pgtrace import FILE` (FuzzRegressionTests reads
# its inputs as XML bytes, so it does not go through the importer).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    echo "usage: scripts/fuzz.sh [--target xml|text|summary] [--release] [seconds]" >&2
    exit 2
}

target=xml
configuration=debug
seconds=600
while (($#)); do
    case $1 in
        --target) (($# >= 2)) || usage; target=$2; shift 2 ;;
        --target=*) target=${1#--target=}; shift ;;
        --release) configuration=release; shift ;;
        --debug) configuration=debug; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) usage ;;
        *) [[ $1 =~ ^[0-9]+$ ]] || usage; seconds=$1; shift ;;
    esac
done
case $target in
    xml) product=pgtrace-fuzz ;;
    text) product=pgtrace-fuzz-text ;;
    summary) product=pgtrace-fuzz-summary ;;
    *) usage ;;
esac

if [[ $configuration == release ]]; then scratch=$PWD/.build-fuzz-release; else scratch=$PWD/.build-fuzz; fi
mkdir -p "$scratch"
build=(swift build --package-path Fuzz --scratch-path "$scratch" -c "$configuration")
if ! "${build[@]}" --product "$product" -Xswiftc -sanitize=fuzzer,address >"$scratch/build-$target.log" 2>&1; then
    grep -E "error:" "$scratch/build-$target.log" | grep -v "Cannot export" | head -20
    echo "fuzz: the fuzz target $product did not build (full log in $scratch/build-$target.log)"
    exit 1
fi
binary=$("${build[@]}" --show-bin-path)/$product

artifacts=$scratch/artifacts
mkdir -p "$artifacts"
fuzz_options=()
if [[ $target == xml ]]; then
    max_len=65536
    corpus=$scratch/corpus
    mkdir -p "$corpus"
    cp traces/*.xml "$corpus"/
    if compgen -G "Tests/PGTraceTests/Fixtures/fuzz/*" >/dev/null; then cp Tests/PGTraceTests/Fixtures/fuzz/* "$corpus"/; fi
    fuzz_options+=(-dict=scripts/fuzz.dict)
elif [[ $target == summary ]]; then
    max_len=65536
    corpus=$scratch/corpus-summary
    mkdir -p "$corpus"
    cp Tests/PGTraceTests/Fixtures/fuzz-summary/*.sum "$corpus"/
    # The format's keys and values (docs/summary-format.md).
    dict=$scratch/fuzz-summary.dict
    for word in '"pgtrace-summary"' '"proveRawLockNesting"' '"file"' '"name"' '"events"' '"sym"' '"class"' \
        '"nameSym"' '"subclass"' '"type"' '"pseudo"' '"declared"' '"declaration"' '"moment"' '"cpu"' '"task"' \
        '"irq"' '"held"' '"mayMissHeldLocks"' '"fact"' '"seq"' '"classId"' '"bit"' '"from"' '"to"' '"kind"' \
        '"types"' '"mode"' '"holderMode"' '"nextMode"' '"read"' '"site"' '"lockSite"' '"holderSite"' '"momentRef"' \
        '"finding"' '"note"' '"evidence"' '"end"' '"usage"' '"dependency"' '"used"' '"nmi-acquire"' '"lock-order"' \
        '"ipi"' '"kmap"' '"write"' '"recursive-read"' '"spinlock"' '"rwlock"' '"mutex"' 'true' 'false' '-1'; do
        printf '"%s"\n' "$(printf '%s' "$word" | sed 's/\\/\\\\/g; s/"/\\"/g')"
    done >"$dict"
    fuzz_options+=(-dict="$dict")
else
    # Each text input is imported and replayed three times: shorter inputs keep the rate up.
    max_len=16384
    corpus=$scratch/corpus-text
    mkdir -p "$corpus"
    seeds=(Tests/PGTraceTests/Fixtures/import/*.txt)
    if [[ -d ../shared/captures ]] && compgen -G "../shared/captures/*.txt" >/dev/null; then
        seeds+=(../shared/captures/*.txt)
    fi
    if compgen -G "Tests/PGTraceTests/Fixtures/fuzz/*.txt" >/dev/null; then seeds+=(Tests/PGTraceTests/Fixtures/fuzz/*.txt); fi
    for seed in "${seeds[@]}"; do
        # Longer seeds than -max_len would be cut anyway: cut them at a line end here.
        if (($(wc -c <"$seed") > max_len)); then
            head -c "$max_len" "$seed" | sed '$d' >"$corpus/$(basename "$seed")"
        else
            cp "$seed" "$corpus/"
        fi
    done
    # The vocabulary of the text formats (EventTranslator, TextTraceFormat), made here so that
    # it needs no file of its own.
    dict=$scratch/fuzz-text.dict
    {
        for word in lock_acquire lock_release lock_contended lock_acquired irq_disable irq_enable \
            irq_handler_entry irq_handler_exit softirq_entry softirq_exit softirq_raise \
            ipi_send_cpu ipi_send_cpumask csd_queue_cpu ipi_raise ipi_entry ipi_exit tlb_flush \
            xen_mmu_flush_tlb_others xen_mmu_flush_tlb_multi xen_mmu_flush_tlb_one_user \
            xen_mmu_flush_tlb_one_kernel xen_mmu_flush_tlb_all xen_mmu_pgd_pin xen_mmu_pgd_unpin \
            xen_mmu_alloc_ptpage xen_mmu_release_ptpage sched_switch \
            "lock:" "irq:" "ipi:" "csd:" "tlb:" "xen:" "sched:" "preemptirq:" "sys:" \
            "name=" "addr=" "caller=" "callsite=" "cpu=" "cpumask=" "target_mask=" "callback=" \
            "reason=" "pages=" "pfn=" "pgd=" "mm=" "level=" "pinned=" "irq=" "vec=" "ret=" \
            "prev_comm=" "prev_pid=" "prev_prio=" "prev_state=" "next_comm=" "next_pid=" "next_prio=" \
            "read" "write" "try" "rlock" "&(&" ")->rlock" "->" "pgd_lock" "&mm->page_table_lock" \
            "ptlock" "kmap:" "# tracer: nop" "#" "CPU:" "cpus=" "version = " "[LOST " " EVENTS]" \
            "dNh." "d..1" "...." ".N.." "d.h1" "dnh2" "dNs." "=>" "(-----)" " [000] " " [001] " \
            "flush_tlb_func" "do_flush_tlb_all" "do_kernel_range_flush" "do_sync_core" \
            "tlb_remove_table_smp_sync" "flush_tlb_func_remote" "hypercall" "unpinned" \
            "0x" "ffffffff" "00000000c0ffee01"; do
            printf '"%s"\n' "$(printf '%s' "$word" | sed 's/\\/\\\\/g; s/"/\\"/g')"
        done
        printf '"\\x0a"\n"\\x09"\n": "\n"  "\n'
    } >"$dict"
    fuzz_options+=(-dict="$dict")
fi

log=$scratch/fuzz-$target.log
echo "fuzzing $product ($configuration) for ${seconds}s with $(ls "$corpus" | wc -l) seed inputs (log: $log)"
status=0
# The text target writes each input to a file under $TMPDIR: keep those in the scratch folder.
mkdir -p "$scratch/tmp"
TMPDIR=$scratch/tmp "$binary" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    "${fuzz_options[@]}" -artifact_prefix="$artifacts/$target-" -print_final_stats=1 >"$log" 2>&1 || status=$?
if ((status == 0)); then
    tail -n 25 "$log"
    echo "fuzz: clean after ${seconds}s ($target, $configuration)"
    exit 0
fi
# What went wrong: the report from its first line on (the sanitizer's, Swift's or libFuzzer's).
awk '/ERROR: AddressSanitizer|ERROR: LeakSanitizer|ERROR: libFuzzer|Fatal error|deadly signal|ALARM: working on the last Unit|out-of-memory/ { on = 1 }
     on && shown < 40 { print; shown++ }' "$log"
echo "fuzz: $product ($configuration) stopped with status $status (full log in $log); the input is in:"
grep -E "Test unit written to" "$log" | sed 's/.*Test unit written to /  /' || echo "  (no artifact written: see $log)"
grep -E "^SUMMARY: " "$log" | head -n 1 | sed 's/^/  /' || true
exit 1
