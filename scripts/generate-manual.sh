#!/usr/bin/env bash
# Regenerates man/pgtrace.1 from the command definitions, with swift-argument-parser's
# generate-manual plugin (it builds pgtrace in release mode first, the plain build, which
# replaces the static .build/release/pgtrace that CI and the benchmarks build). Run it after
# changing a command's options or help; UsabilityCommandTests fails while the page lags.
set -euo pipefail
cd "$(dirname "$0")/.."
swift package --allow-writing-to-package-directory generate-manual >&2
# The plugin dates the page the day it runs; the page is dated by the version it documents
# (the commit that last set it), so that regenerating an unchanged page changes nothing.
version=$(sed -n 's/.*pgtraceVersion = "\(.*\)".*/\1/p' Sources/PGTrace/Version.swift)
dated=$(git log -1 --format=%cd --date=format:'%B %-d, %Y' -- Sources/PGTrace/Version.swift)
# The plugin's EXIT STATUS is mdoc's generic ".Ex -std" (0 success, >0 error); pgtrace's is
# the contract's, and its environment (colour) is worth a section: both written here.
sed -e "s/^\.Dd .*/.Dd $dated/" -e '/^\.Sh "EXIT STATUS"/,$d' \
    .build/plugins/GenerateManual/outputs/pgtrace/pgtrace.1 > man/pgtrace.1
cat >> man/pgtrace.1 <<'MDOC'
.Sh ENVIRONMENT
.Bl -tag -width 9n
.It Ev NO_COLOR
When set and not empty, text reports are not coloured (unless --color always).
.It Ev TERM
When dumb, text reports are not coloured (unless --color always).
.El
.Sh "EXIT STATUS"
.Bl -tag -width 3n
.It 0
No finding at or above --fail-on (or, for validate, every trace valid).
.It 1
Findings at or above --fail-on (error by default), among those shown.
.It 2
An input could not be read (the message names file:line:column, in a trace.dat the byte, and what was expected), or
the command line was wrong.
.El
.Sh SEE ALSO
.Xr trace-cmd 1 ,
.Xr perf-lock 1
MDOC
echo "man/pgtrace.1 (pgtrace $version)" >&2
