#!/usr/bin/env bash
# Release smoke run: every subcommand of a pgtrace binary on every shipped trace and text fixture.
#
#   scripts/smoke.sh .build/release/pgtrace
#
# For each traces/*.xml: analyze (text, json), graph (dot, graphml, json), lint (text, sarif,
# junit) and validate. For each Tests/PGTraceTests/Fixtures/import/*.txt: analyze, graph, lint,
# import and validate of the imported trace. Then a baseline round trip, the policy of
# traces/README.md and a trace on standard input.
#
# Exit codes (docs/cli-contract.md): analyze and lint 0 or 1, and 0 for a trace that
# traces/README.md calls clean or whose name ends in -fixed.xml; graph, import and validate 0.
# A signal (139 is SIGSEGV), a timeout or 2 is a failure. Outputs must parse: JSON (analyze
# --format json also has the contract's keys, and exits 1 exactly when it reports an error),
# SARIF against the OASIS schema in Tests/PGTraceTests/Fixtures/sarif-2.1.0.json (python3's
# jsonschema, with the validator its $schema names), GraphML, JUnit and imported traces
# well-formed XML, DOT starting with `digraph` (and through `dot -Tsvg` when Graphviz is here).
#
# One line per failure, then `smoke: N passed, M failed`; the exit status is 1 if any failed.
# SMOKE_VERBOSE=1 also prints the first lines of each failing command's standard error;
# SMOKE_TIMEOUT (seconds, default 20) bounds each command.
set -euo pipefail

if (($# != 1)); then
    echo "usage: scripts/smoke.sh BINARY" >&2
    exit 2
fi
# The binary as the caller named it, before the cd below.
binary=$1
if [[ $binary != */* ]]; then
    binary=$(command -v -- "$binary") || { echo "smoke: $1: not found" >&2; exit 2; }
fi
for _ in $(seq 30); do [[ -x $binary ]] && break; sleep 1; done   # a rebuild may be replacing it
[[ -x $binary && ! -d $binary ]] || { echo "smoke: $1: not an executable" >&2; exit 2; }
binary=$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")
cd "$(dirname "$0")/.."

work=$(mktemp -d "${TMPDIR:-/tmp}/pgtrace-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Test a copy, so that a rebuild of the binary during the run cannot mix two versions.
bin=$work/pgtrace
cp "$binary" "$bin"
limit=${SMOKE_TIMEOUT:-20}
verbose=${SMOKE_VERBOSE:-0}
bounded=()
if command -v timeout >/dev/null; then bounded=(timeout -k 5 "$limit"); fi

passed=0
failed=0
checks=$work/checks.tsv   # output checks for python: kind, file, label, exit status
: >"$checks"
n=0

fail() { # LABEL REASON [STDERR-FILE]
    failed=$((failed + 1))
    local line="FAIL: $1: $2"
    if [[ -n ${3:-} && -s $3 ]]; then
        local first
        first=$(grep -m1 -E 'Program crashed|Fatal error|error|Error|ERROR' "$3" || grep -m1 -v '^[[:space:]]*$' "$3" || true)
        [[ -n $first ]] && line+=" — stderr: ${first:0:200}"
    fi
    echo "$line"
    if [[ $verbose == 1 && -n ${3:-} && -s $3 ]]; then grep -v '^[[:space:]]*$' "$3" | head -n 8 | sed 's/^/    /'; fi
}

describe() { # STATUS
    if (($1 == 124)) && ((${#bounded[@]})); then
        echo "timed out after ${limit}s"
    elif (($1 > 128)); then
        echo "exit $1 (SIG$(kill -l $(($1 - 128)) 2>/dev/null || echo "nal $(($1 - 128))"))"
    else
        echo "exit $1"
    fi
}

# run ALLOWED STDIN ARGS...: runs the binary with ARGS, standard output to $out and standard
# error to $err (fresh files), standard input from STDIN; sets $status and $label. True if
# the status is one of ALLOWED (space-separated); otherwise counts and prints the failure.
run() {
    local allowed=$1 input=$2
    shift 2
    n=$((n + 1))
    out=$work/out.$n
    err=$work/err.$n
    label="pgtrace $*"
    [[ $input != /dev/null ]] && label+=" < $input"
    label=${label//"$work"/'$TMP'}
    status=0
    { "${bounded[@]}" "$bin" "$@" <"$input" >"$out" 2>"$err"; } 2>/dev/null || status=$?
    if [[ " $allowed " == *" $status "* ]]; then return 0; fi
    fail "$label" "$(describe "$status"), expected ${allowed// / or }" "$err"
    return 1
}

ok() { passed=$((passed + 1)); }

# Queues the output FILE of the command just run for the python checks of KIND.
check_output() { # KIND FILE
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$label" "$status" >>"$checks"
}

check_dot() { # FILE: non-empty, a digraph, and Graphviz reads it if it is here
    if [[ ! -s $1 ]]; then
        fail "$label" "empty DOT output"
    elif [[ $(head -c 7 "$1") != digraph ]]; then
        fail "$label" "DOT output does not start with 'digraph': $(head -n1 "$1" | cut -c1-80)"
    elif command -v dot >/dev/null && ! dot -Tsvg "$1" >/dev/null 2>"$work/dot.err"; then
        fail "$label" "dot -Tsvg rejects the output: $(head -n1 "$work/dot.err")"
    else
        ok
    fi
}

check_nonempty() { # FILE
    if [[ -s $1 ]]; then ok; else fail "$label" "empty report"; fi
}

# The traces traces/README.md calls clean (the verdict column starts with "clean").
clean=" "
if [[ -f traces/README.md ]]; then
    while IFS= read -r name; do clean+="$name "; done < <(
        awk -F'|' '$2 ~ /^ *`[^`]+\.xml` *$/ && $(NF-1) ~ /^ *clean/ { gsub(/[ `]/, "", $2); print $2 }' traces/README.md)
fi
expected_findings() { # TRACE: the allowed exit statuses of analyze and lint
    local name
    name=$(basename "$1")
    if [[ $name == *-fixed.xml || $clean == *" $name "* ]]; then echo 0; else echo "0 1"; fi
}

shopt -s nullglob
traces=(traces/*.xml)
fixtures=(Tests/PGTraceTests/Fixtures/import/*.txt)
((${#traces[@]} > 0)) || fail "traces/*.xml" "no traces found"
((${#fixtures[@]} > 0)) || fail "Tests/PGTraceTests/Fixtures/import/*.txt" "no text fixtures found"

for trace in "${traces[@]}"; do
    expect=$(expected_findings "$trace")
    if run "$expect" /dev/null analyze "$trace"; then check_nonempty "$out"; fi
    if run "$expect" /dev/null analyze --format json "$trace"; then check_output analyze-json "$out"; fi
    if run 0 /dev/null graph "$trace"; then check_dot "$out"; fi
    if run 0 /dev/null graph --format dot "$trace"; then check_dot "$out"; fi
    if run 0 /dev/null graph --format graphml "$trace"; then check_output graphml "$out"; fi
    if run 0 /dev/null graph --format json "$trace"; then check_output json "$out"; fi
    if run "$expect" /dev/null lint "$trace"; then check_nonempty "$out"; fi
    sarif=$work/$(basename "$trace" .xml).sarif
    if run "$expect" /dev/null lint --format sarif --output "$sarif" "$trace"; then check_output sarif "$sarif"; fi
    if run "$expect" /dev/null lint --format junit "$trace"; then check_output junit "$out"; fi
    if run 0 /dev/null validate "$trace"; then ok; fi
done

for fixture in "${fixtures[@]}"; do
    if run "0 1" /dev/null analyze "$fixture"; then check_nonempty "$out"; fi
    if run 0 /dev/null graph "$fixture"; then check_dot "$out"; fi
    if run "0 1" /dev/null lint "$fixture"; then check_nonempty "$out"; fi
    imported=$work/$(basename "$fixture" .txt).xml
    if run 0 /dev/null import "$fixture" -o "$imported"; then
        check_output trace-xml "$imported"
        if run 0 /dev/null validate "$imported"; then ok; fi
    fi
done

# A baseline of today's findings accepts them.
baseline=$work/baseline.json
if run "0 1" /dev/null lint traces/pgd-lock-abba.xml --write-baseline "$baseline"; then
    if [[ -s $baseline ]]; then check_output json "$baseline"; else fail "$label" "no baseline written"; fi
    if run 0 /dev/null lint traces/pgd-lock-abba.xml --baseline "$baseline"; then ok; fi
fi

# The policy of traces/README.md: the read() half of Hugh's pair against Andrea's order.
policy=traces/seed003-kmap-series.policy
if run 1 /dev/null lint --policy "$policy" traces/seed003-read-fault-default-before-pagetable.xml; then ok; fi
if run 0 /dev/null lint --policy "$policy" traces/seed003-andrea-series-order.xml; then ok; fi

# Standard input.
if run 1 traces/pgd-lock-abba.xml analyze -; then check_nonempty "$out"; fi

# The output checks, in one python process.
if [[ -s $checks ]]; then
    while IFS=$'\t' read -r verdict label reason; do
        if [[ $verdict == ok ]]; then ok; else fail "$label" "$reason"; fi
    done < <(python3 - "$checks" Tests/PGTraceTests/Fixtures/sarif-2.1.0.json <<'PY' || echo $'FAIL\tpython3 output checks\tthe checker itself failed'
import json, sys
import xml.etree.ElementTree as ET

checks_path, schema_path = sys.argv[1], sys.argv[2]
sarif_validator, sarif_problem = None, None
def sarif():
    global sarif_validator, sarif_problem
    if sarif_validator is None and sarif_problem is None:
        try:
            import jsonschema
            with open(schema_path, encoding="utf-8") as f:
                schema = json.load(f)
            cls = jsonschema.validators.validator_for(schema)   # draft-04 for SARIF 2.1.0
            cls.check_schema(schema)
            checker = getattr(cls, "FORMAT_CHECKER", None)
            sarif_validator = cls(schema, format_checker=checker) if checker else cls(schema)
        except ImportError:
            sarif_problem = "python3 has no jsonschema module (pip install jsonschema): SARIF not validated"
        except Exception as e:
            sarif_problem = f"cannot load the SARIF schema {schema_path}: {e}"
    return sarif_validator

def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)

def local(tag):
    return tag.rsplit("}", 1)[-1]

def check(kind, path, status):
    if kind in ("json", "analyze-json", "sarif"):
        try:
            data = load_json(path)
        except FileNotFoundError:
            return "no output file"
        except ValueError as e:
            return f"not JSON: {e}"
        if kind == "analyze-json":
            findings = data.get("findings") if isinstance(data, dict) else None
            if not isinstance(findings, list):
                return "JSON report without a 'findings' array"
            for i, finding in enumerate(findings):
                missing = [k for k in ("rule", "severity", "message", "locks", "locations") if k not in finding]
                if missing:
                    return f"finding {i} lacks {', '.join(missing)}"
                if finding["severity"] not in ("error", "warning"):
                    return f"finding {i} has severity {finding['severity']!r}"
            errors = sum(1 for f in findings if f["severity"] == "error")
            if (errors > 0) != (status == 1):
                return f"exit {status} but the report has {errors} error finding(s)"
        if kind == "sarif":
            validator = sarif()
            if validator is None:
                return sarif_problem
            problems = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
            if problems:
                first = problems[0]
                where = "/".join(str(p) for p in first.absolute_path) or "(root)"
                return f"SARIF invalid against the 2.1.0 schema ({len(problems)} error(s)); at {where}: {first.message[:200]}"
        return None
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        return "no output file"
    except ET.ParseError as e:
        return f"not well-formed XML: {e}"
    expected = {"graphml": ("graphml",), "junit": ("testsuites", "testsuite"), "trace-xml": ("trace",)}[kind]
    if local(root.tag) not in expected:
        return f"root element <{local(root.tag)}>, expected <{'> or <'.join(expected)}>"
    return None

with open(checks_path, encoding="utf-8") as f:
    for line in f:
        kind, path, label, status = line.rstrip("\n").split("\t")
        try:
            problem = check(kind, path, int(status))
        except Exception as e:
            problem = f"{kind} check failed: {type(e).__name__}: {e}"
        print(f"FAIL\t{label}\t{problem}" if problem else f"ok\t{label}\t", flush=True)
PY
    )
fi

echo "smoke: $passed passed, $failed failed"
((failed == 0))
