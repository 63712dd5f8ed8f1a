#!/usr/bin/env bash
# Installs the tools novade-sync runs beside Node: the Temporal dev server (temporal CLI) and the
# BigQuery emulator, both built from their Go modules; with --for-tests also Spark + Delta Lake
# (Databricks dialect tests) and Chromium (Web UI test). Builds are cached per machine under
# $NOVADE_TOOLS_CACHE (default ~/.cache/novade-sync) and linked into .tools/ of this checkout, so a
# fresh clone on the same machine is ready in seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${NOVADE_TOOLS_CACHE:-$HOME/.cache/novade-sync}"
TEMPORAL_VERSION=v1.5.1
BQ_EMULATOR_VERSION=v0.8.1
PYSPARK_VERSION=3.5.3
DELTA_VERSION=3.2.1
FOR_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --for-tests) FOR_TESTS=1 ;;
    *) echo "setup.sh: unknown option $arg (known: --for-tests)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE/bin" "$ROOT/.tools/bin"

need_go() {
  command -v go >/dev/null || die "Go is needed to build $1 (install Go >= 1.25 from https://go.dev/dl, then re-run npm run setup)"
}

# The Temporal CLI carries the dev server and its Web UI. v1.5.1 is the newest tag `go install` accepts
# (later go.mod files have a replace directive).
temporal_bin="$CACHE/bin/temporal-$TEMPORAL_VERSION"
if [ ! -x "$temporal_bin" ]; then
  need_go "the Temporal CLI"
  say "Building the Temporal CLI $TEMPORAL_VERSION from its Go module (first time only: several minutes)..."
  tmp="$(mktemp -d)"
  GOBIN="$tmp" CGO_ENABLED=0 go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_VERSION"
  mv "$tmp/temporal" "$temporal_bin"
  rm -rf "$tmp"
fi
ln -sf "$temporal_bin" "$ROOT/.tools/bin/temporal"

# goccy/bigquery-emulator: `go install @version` fails here because the module proxy refuses the
# version list it consults for deprecations, so download the exact version and build inside it.
bq_bin="$CACHE/bin/bigquery-emulator-$BQ_EMULATOR_VERSION"
if [ ! -x "$bq_bin" ]; then
  need_go "the BigQuery emulator"
  say "Building the BigQuery emulator $BQ_EMULATOR_VERSION from its Go module (first time only: several minutes)..."
  dir="$(go mod download -json "github.com/goccy/bigquery-emulator@$BQ_EMULATOR_VERSION" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  [ -n "$dir" ] || die "could not download github.com/goccy/bigquery-emulator@$BQ_EMULATOR_VERSION from the Go module proxy"
  (cd "$dir" && CGO_ENABLED=0 go build -o "$bq_bin.tmp" ./cmd/bigquery-emulator)
  mv "$bq_bin.tmp" "$bq_bin"
fi
ln -sf "$bq_bin" "$ROOT/.tools/bin/bigquery-emulator"

if [ "$FOR_TESTS" = 1 ]; then
  # Databricks has no local server: its SQL dialect is checked on Spark + Delta Lake.
  venv="$CACHE/venv-spark-$PYSPARK_VERSION-delta-$DELTA_VERSION"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pyspark, delta' 2>/dev/null; then
    command -v python3 >/dev/null || die "python3 is needed for the Spark/Delta dialect tests"
    command -v java >/dev/null || die "Java 17 is needed for the Spark/Delta dialect tests"
    say "Installing pyspark $PYSPARK_VERSION and delta-spark $DELTA_VERSION into $venv (first time only)..."
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "pyspark==$PYSPARK_VERSION" "delta-spark==$DELTA_VERSION"
  fi
  ln -sfn "$venv" "$ROOT/.tools/spark-venv"

  if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "Installing Debian's chromium for the Web UI test (first time only)..."
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      say "Chromium is not installed and cannot be installed here: the Web UI test will say it is skipped (sudo apt-get install chromium)."
    fi
  fi
fi
say "Tools ready in .tools/ (temporal $TEMPORAL_VERSION, bigquery-emulator $BQ_EMULATOR_VERSION$([ "$FOR_TESTS" = 1 ] && echo ', spark + delta, chromium'))."
