#!/usr/bin/env bash
# Builds and runs examples/as-a-dependency against a clone of this repository's HEAD, tagged
# with PGTrace's version and reached through a local git URL: the way another package depends
# on PGTrace. SwiftPM refuses such a dependency if PGTrace's targets use unsafe flags.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
version=$(sed -n 's/^public let pgtraceVersion = "\(.*\)"$/\1/p' Sources/PGTrace/Version.swift)
[[ -n $version ]] || { echo "check-dependency: no version in Sources/PGTrace/Version.swift"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/pgtrace-dependency.XXXXXX")
trap 'rm -rf "$work"' EXIT
git clone -q --no-local "$root" "$work/pgtrace"
git -C "$work/pgtrace" -c user.name=check -c user.email=check@localhost tag -a "$version" -m "pgtrace $version"
cp -R examples/as-a-dependency "$work/consumer"
export PGTRACE_GIT_URL="file://$work/pgtrace" PGTRACE_VERSION="$version"
if ! swift build --package-path "$work/consumer" --scratch-path "$work/build" >"$work/build.log" 2>&1; then
    grep -E "error|unsafe" "$work/build.log" | head -20
    echo "check-dependency: the consumer package did not build against pgtrace $version"
    exit 1
fi
swift run --package-path "$work/consumer" --scratch-path "$work/build" --skip-build consumer
echo "check-dependency: ok (PGTrace $version by version through $PGTRACE_GIT_URL)"
