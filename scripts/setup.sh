#!/usr/bin/env bash
# Installs what the test run needs on Debian, skipping whatever is already there:
# redis-server from apt and FerretDB v1 (the MongoDB-compatible server) from the Go module proxy.
set -euo pipefail

FERRETDB_VERSION=v1.24.2
GOBIN_DIR="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"

log() { printf '[setup] %s\n' "$*"; }

if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then
  log "redis-server present: $(redis-server --version | cut -d' ' -f3)"
else
  log "installing redis-server with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-server >/dev/null
  # Debian starts a system-wide instance on 6379; the tests start their own, so stop it.
  (service redis-server stop || systemctl stop redis-server || true) >/dev/null 2>&1
fi

# The test run also builds a local Redis Cluster with redis-cli (Debian's redis-tools, which redis-server
# depends on); a system with redis-server from elsewhere may lack it.
if command -v redis-cli >/dev/null 2>&1; then
  log "redis-cli present: $(redis-cli --version | cut -d' ' -f2)"
else
  log "installing redis-tools (redis-cli) with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq redis-tools >/dev/null
fi

ferretdb_works() { [ -x "$GOBIN_DIR/ferretdb" ] && "$GOBIN_DIR/ferretdb" --version >/dev/null 2>&1; }

if command -v mongod >/dev/null 2>&1; then
  log "mongod present: the tests use it"
elif ferretdb_works; then
  log "ferretdb present: $("$GOBIN_DIR/ferretdb" --version | head -n1)"
else
  command -v go >/dev/null 2>&1 || { log "Go is required to install FerretDB"; exit 1; }
  log "installing FerretDB $FERRETDB_VERSION with go install"
  if ! go install "github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION" 2>/tmp/portcullis-ferretdb-install.log \
    || ! ferretdb_works; then
    # The module proxy may refuse the version list that `go install` consults, and the published module
    # lacks the generated build/version/version.txt, so such a binary panics at start. Build it from the
    # module source with that file written, as FerretDB's own build task does.
    log "go install did not give a working binary; building $FERRETDB_VERSION from the module source"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    (
      cd "$work"
      go mod init ferretdb-build >/dev/null 2>&1
      go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" >module.json
      dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' module.json)"
      cp -r "$dir" src
      chmod -R u+w src
      echo "$FERRETDB_VERSION" >src/build/version/version.txt
      cd src
      go build -o "$GOBIN_DIR/ferretdb" ./cmd/ferretdb
    )
  fi
  ferretdb_works || { log "FerretDB installation failed"; exit 1; }
  log "installed $("$GOBIN_DIR/ferretdb" --version | head -n1)"
fi
