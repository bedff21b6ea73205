#!/usr/bin/env bash
# Regenerates man/pgtrace.1 from the command definitions, with swift-argument-parser's
# generate-manual plugin (it builds pgtrace in release mode first). Run it after changing
# a command's options or help; UsabilityCommandTests fails while the page lags the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
swift package --allow-writing-to-package-directory generate-manual >&2
# The plugin dates the page the day it runs; the page is dated by the version it documents
# (the commit that last set it), so that regenerating an unchanged page changes nothing.
version=$(sed -n 's/.*pgtraceVersion = "\(.*\)".*/\1/p' Sources/PGTrace/Version.swift)
dated=$(git log -1 --format=%cd --date=format:'%B %-d, %Y' -- Sources/PGTrace/Version.swift)
sed -e "s/^\.Dd .*/.Dd $dated/" .build/plugins/GenerateManual/outputs/pgtrace/pgtrace.1 > man/pgtrace.1
echo "man/pgtrace.1 (pgtrace $version)" >&2
