#!/usr/bin/env bash
# Installs the tools novade-sync runs beside Node: the Temporal dev server (temporal CLI) and the
# BigQuery emulator, both built from their Go modules; with --for-tests also Spark + Delta Lake
# (Databricks dialect tests) and Chromium (Web UI test); with --for-topology the production Temporal
# server, its SQL tool and the UI server (Go modules), PostgreSQL 15 and Prometheus (Debian), for
# `npm run test:topology`. Builds are cached per machine under $NOVADE_TOOLS_CACHE (default
# ~/.cache/novade-sync) and linked into .tools/ of this checkout, so a fresh clone on the same machine
# is ready in seconds. Checkouts on one machine share the cache: every build holds one lock, so two
# set-ups started together build each tool once, one build at a time (a Go build of the Temporal
# server takes GBs of memory).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${NOVADE_TOOLS_CACHE:-$HOME/.cache/novade-sync}"
TEMPORAL_VERSION=v1.5.1
BQ_EMULATOR_VERSION=v0.8.1
PYSPARK_VERSION=3.5.3
DELTA_VERSION=3.2.1
# The Temporal server the CLI above embeds (its go.mod pins it), and the UI server it pins.
TEMPORAL_SERVER_VERSION=v1.29.1
TEMPORAL_UI_VERSION=v2.42.1
FOR_TESTS=0
FOR_TOPOLOGY=0
for arg in "$@"; do
  case "$arg" in
    --for-tests) FOR_TESTS=1 ;;
    --for-topology) FOR_TOPOLOGY=1 ;;
    *) echo "setup.sh: unknown option $arg (known: --for-tests, --for-topology)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE/bin" "$ROOT/.tools/bin"

need_go() {
  command -v go >/dev/null || die "Go is needed to build $1 (install Go >= 1.25 from https://go.dev/dl, then re-run npm run setup)"
}

# Runs "$@" under the machine-wide build lock unless $1 (the file the build produces; "" for a step
# that checks for itself) is already there. The check is repeated once the lock is held: a set-up
# that waited for another one's build finds the result and builds nothing. The lock is released when
# the subshell holding it exits.
# Without flock (macOS has none by default) a set-up builds unlocked: one checkout, one set-up.
locked_build() {
  local product="$1"; shift
  [ -n "$product" ] && [ -e "$product" ] && return 0
  if ! command -v flock >/dev/null; then
    "$@"
    return
  fi
  (
    exec 9>"$CACHE/build.lock"
    if ! flock -n 9; then
      say "Another set-up on this machine is building a tool; waiting for it (lock $CACHE/build.lock)..."
      flock 9
    fi
    [ -n "$product" ] && [ -e "$product" ] && exit 0
    "$@"
  )
}

# The module's directory in the Go module cache (downloads it first).
go_module_dir() {
  local dir
  dir="$(go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)",/\1/p')"
  [ -n "$dir" ] || die "could not download $1 from the Go module proxy"
  printf '%s\n' "$dir"
}

# The Temporal CLI carries the dev server and its Web UI. v1.5.1 is the newest tag `go install` accepts
# (later go.mod files have a replace directive).
temporal_bin="$CACHE/bin/temporal-$TEMPORAL_VERSION"
build_temporal_cli() {
  need_go "the Temporal CLI"
  say "Building the Temporal CLI $TEMPORAL_VERSION from its Go module (first time only: several minutes)..."
  local tmp
  tmp="$(mktemp -d)"
  GOBIN="$tmp" CGO_ENABLED=0 nice go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_VERSION"
  mv "$tmp/temporal" "$temporal_bin"
  rm -rf "$tmp"
}
locked_build "$temporal_bin" build_temporal_cli
ln -sf "$temporal_bin" "$ROOT/.tools/bin/temporal"

# goccy/bigquery-emulator: `go install @version` fails here because the module proxy refuses the
# version list it consults for deprecations, so download the exact version and build inside it.
bq_bin="$CACHE/bin/bigquery-emulator-$BQ_EMULATOR_VERSION"
build_bq_emulator() {
  need_go "the BigQuery emulator"
  say "Building the BigQuery emulator $BQ_EMULATOR_VERSION from its Go module (first time only: several minutes)..."
  local dir
  dir="$(go_module_dir "github.com/goccy/bigquery-emulator@$BQ_EMULATOR_VERSION")"
  (cd "$dir" && CGO_ENABLED=0 nice go build -o "$bq_bin.tmp" ./cmd/bigquery-emulator)
  mv "$bq_bin.tmp" "$bq_bin"
}
locked_build "$bq_bin" build_bq_emulator
ln -sf "$bq_bin" "$ROOT/.tools/bin/bigquery-emulator"

if [ "$FOR_TESTS" = 1 ]; then
  # Databricks has no local server: its SQL dialect is checked on Spark + Delta Lake.
  venv="$CACHE/venv-spark-$PYSPARK_VERSION-delta-$DELTA_VERSION"
  install_spark_venv() {
    command -v python3 >/dev/null || die "python3 is needed for the Spark/Delta dialect tests"
    command -v java >/dev/null || die "Java 17 is needed for the Spark/Delta dialect tests"
    say "Installing pyspark $PYSPARK_VERSION and delta-spark $DELTA_VERSION into $venv (first time only)..."
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "pyspark==$PYSPARK_VERSION" "delta-spark==$DELTA_VERSION"
    touch "$venv/.complete"
  }
  # An older set-up left no marker: a venv that imports both counts as complete.
  if [ ! -e "$venv/.complete" ] && [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pyspark, delta' 2>/dev/null; then
    touch "$venv/.complete"
  fi
  locked_build "$venv/.complete" install_spark_venv
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

if [ "$FOR_TOPOLOGY" = 1 ]; then
  # The production Temporal server and its SQL tool come from one module; the SQL tool reads the
  # schema files shipped in it, kept beside the binaries so a cleaned Go module cache does not lose them.
  server_bin="$CACHE/bin/temporal-server-$TEMPORAL_SERVER_VERSION"
  sql_bin="$CACHE/bin/temporal-sql-tool-$TEMPORAL_SERVER_VERSION"
  schema_dir="$CACHE/temporal-schema-$TEMPORAL_SERVER_VERSION"
  temporal_module() { go_module_dir "go.temporal.io/server@$TEMPORAL_SERVER_VERSION"; }
  # The flags of the server's own Makefile: no cgo, and without the gRPC admin modules it never serves.
  build_temporal_tool() { # <product> <package dir> <label>
    need_go "$3"
    say "Building $3 $TEMPORAL_SERVER_VERSION from its Go module (first time only: several minutes, GBs of memory)..."
    local dir
    dir="$(temporal_module)"
    (cd "$dir" && CGO_ENABLED=0 nice go build -tags disable_grpc_modules -o "$1.tmp" "$2")
    mv "$1.tmp" "$1"
  }
  copy_schema() {
    need_go "the Temporal schema files"
    local dir
    dir="$(temporal_module)"
    rm -rf "$schema_dir.tmp"
    mkdir -p "$schema_dir.tmp"
    cp -R "$dir/schema/postgresql" "$schema_dir.tmp/"
    chmod -R u+w "$schema_dir.tmp"
    mv "$schema_dir.tmp" "$schema_dir"
  }
  locked_build "$server_bin" build_temporal_tool "$server_bin" ./cmd/server "the Temporal server"
  locked_build "$sql_bin" build_temporal_tool "$sql_bin" ./cmd/tools/sql "temporal-sql-tool"
  locked_build "$schema_dir" copy_schema
  ln -sf "$server_bin" "$ROOT/.tools/bin/temporal-server"
  ln -sf "$sql_bin" "$ROOT/.tools/bin/temporal-sql-tool"
  ln -sfn "$schema_dir" "$ROOT/.tools/temporal-schema"

  # The UI server embeds the Web UI's assets; its binary is also called `server`, hence the rename.
  # Its config/ (docker.yaml: the file the temporalio/ui image renders from the same variables) is kept too.
  ui_bin="$CACHE/bin/temporal-ui-server-$TEMPORAL_UI_VERSION"
  ui_config="$CACHE/temporal-ui-config-$TEMPORAL_UI_VERSION"
  ui_module() { go_module_dir "github.com/temporalio/ui-server/v2@$TEMPORAL_UI_VERSION"; }
  build_ui_server() {
    need_go "the Temporal UI server"
    say "Building the Temporal UI server $TEMPORAL_UI_VERSION from its Go module (first time only: a few minutes)..."
    local dir
    dir="$(ui_module)"
    (cd "$dir" && CGO_ENABLED=0 nice go build -o "$ui_bin.tmp" ./cmd/server)
    mv "$ui_bin.tmp" "$ui_bin"
  }
  copy_ui_config() {
    need_go "the Temporal UI server's configuration"
    local dir
    dir="$(ui_module)"
    rm -rf "$ui_config.tmp"
    cp -R "$dir/config" "$ui_config.tmp"
    chmod -R u+w "$ui_config.tmp"
    mv "$ui_config.tmp" "$ui_config"
  }
  locked_build "$ui_bin" build_ui_server
  locked_build "$ui_config" copy_ui_config
  ln -sf "$ui_bin" "$ROOT/.tools/bin/temporal-ui-server"
  ln -sfn "$ui_config" "$ROOT/.tools/temporal-ui-config"

  # PostgreSQL 15 (Debian 12's) for Temporal's persistence, Prometheus for promtool and the scrape check.
  debian_missing() {
    [ -x /usr/lib/postgresql/15/bin/initdb ] || printf 'postgresql-15 '
    command -v promtool >/dev/null || printf 'prometheus '
  }
  install_debian_packages() {
    local missing
    missing="$(debian_missing)"
    [ -n "$missing" ] || return 0
    say "Installing Debian's $missing for the topology tests (first time only)..."
    apt-get update -qq >/dev/null
    # The packages' own services are not wanted (the topology tests run private instances): policy-rc.d
    # answers 101 to every service start for as long as the install runs.
    local policy=/usr/sbin/policy-rc.d restore=""
    if [ -e "$policy" ]; then restore="$(mktemp)"; cp -p "$policy" "$restore"; fi
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null || { rm -f "$policy"; [ -z "$restore" ] || mv "$restore" "$policy"; die "apt-get install $missing failed"; }
    rm -f "$policy"; [ -z "$restore" ] || mv "$restore" "$policy"
  }
  if [ -n "$(debian_missing)" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      # Under the build lock too: apt refuses a second apt run instead of waiting for it.
      locked_build "" install_debian_packages
    else
      die "The topology tests need $(debian_missing)(Debian 12: sudo apt-get install $(debian_missing)), then re-run: bash scripts/setup.sh --for-topology"
    fi
  fi
fi
extras=""
[ "$FOR_TESTS" = 1 ] && extras="$extras, spark + delta, chromium"
[ "$FOR_TOPOLOGY" = 1 ] && extras="$extras, temporal-server + temporal-sql-tool $TEMPORAL_SERVER_VERSION, temporal-ui-server $TEMPORAL_UI_VERSION, postgresql 15, promtool"
say "Tools ready in .tools/ (temporal $TEMPORAL_VERSION, bigquery-emulator $BQ_EMULATOR_VERSION$extras)."
