#!/usr/bin/env bash
# Builds, caches and installs what the real-engine tests run: the Pulumi CLI, its kubernetes/tls/random
# resource plugins, the Pulumi YAML language host, etcd, kube-apiserver and kube-controller-manager, all from
# the Go module proxy.
#
# Owns: the Go build of each wrapper module under engine/ into
#   ${KMR_ENGINE_DIR:-$HOME/.cache/kafka-multiregion}/<component>-<version>/
# (a binary plus the hash of the sources it was built from, so a warm run only compares hashes), and the
# plugin install into the Pulumi home the tests use ($KMR_ENGINE_DIR/pulumi-home).
# Does not: start anything, or touch the repository (builds that need generated files copy the wrapper
# into the cache directory first).
#
# Usage: engine/build.sh [component...]   (default: all; components: pulumi pulumi-yaml kubernetes-provider
#        tls random etcd kubernetes). Prints one line per component and, on a cold build, progress.
set -euo pipefail
cd "$(dirname "$0")"
ENGINE=$(pwd)
OUT_ROOT=${KMR_ENGINE_DIR:-$HOME/.cache/kafka-multiregion}
mkdir -p "$OUT_ROOT"

# Versions: the engine and Kubernetes are pinned here; the plugin versions are the Python SDK pins the
# program asks the engine for (requirements.txt), so the two cannot drift apart.
PULUMI_VERSION=v3.274.1
KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
KPROVIDER_SOURCE=v4.0.0-20260115033456-f47bc2d6f199
sdk_pin() { sed -n "s/^$1==//p" ../requirements.txt; }
KPROVIDER_VERSION=$(sdk_pin pulumi_kubernetes)
TLS_VERSION=$(sdk_pin pulumi_tls)
RANDOM_VERSION=$(sdk_pin pulumi_random)
# The YAML language host: the version its wrapper module requires (one place to change it).
YAML_VERSION=$(sed -n 's|^[[:space:]]*github.com/pulumi/pulumi-yaml \(v[^ ]*\).*|\1|p' pulumi-yaml/go.mod)
# terraform-provider-random's pseudo-version is not in the checksum database.
export GONOSUMDB=github.com/terraform-providers/terraform-provider-random
export GOFLAGS="${GOFLAGS:-} -mod=readonly"

start=$SECONDS
log() { printf '[engine %4ss] %s\n' "$((SECONDS - start))" "$*"; }

# Hash of everything a component is built from: its wrapper sources (and patch scripts) and this script.
inputs_hash() { (cd "$ENGINE" && find "$@" -type f \( -name '*.go' -o -name go.mod -o -name go.sum -o -name '*.py' \) -print0 \
  | sort -z | xargs -0 sha256sum; sha256sum build.sh) | sha256sum | cut -c1-16; }

# go build with progress: a line every 100 packages compiled (go build -v names each one it compiles).
go_build() { # dir out ldflags pkg
  local dir=$1 out=$2 ldflags=$3 pkg=$4 logf="$2.log" watcher rc=0
  log "  go build $pkg (log: $logf)"
  : >"$logf"
  progress "$logf" & watcher=$!
  (cd "$dir" && nice -n 10 go build -v -trimpath -ldflags "$ldflags" -o "$out.tmp" "$pkg") >"$logf" 2>&1 || rc=$?
  kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then tail -20 "$logf" >&2; log "FAILED: $pkg"; return "$rc"; fi
  mv "$out.tmp" "$out"
}
progress() { # follows a build log while the build runs
  local logf=$1 n last=0
  while sleep 15; do
    n=$(wc -l <"$logf"); if [ "$n" -ge $((last + 100)) ]; then log "  ... $n packages compiled"; last=$n; fi
  done
}

# build NAME VERSION DIR BINARY... : skips when every binary exists and was built from the same inputs.
needs_build() { # outdir hash binaries...
  local outdir=$1 hash=$2; shift 2
  [ "$(cat "$outdir/.inputs" 2>/dev/null)" = "$hash" ] || return 0
  for b in "$@"; do [ -x "$outdir/$b" ] || return 0; done
  return 1
}

build_pulumi() {
  local d="$OUT_ROOT/pulumi-$PULUMI_VERSION" h; h=$(inputs_hash pulumi)
  # bin/pulumi: the layout the Automation API's PulumiCommand(root=...) expects.
  if needs_build "$d" "$h" bin/pulumi; then
    log "pulumi $PULUMI_VERSION: building (cold: about 6 minutes on 2 cores)"; mkdir -p "$d/bin"
    go_build pulumi "$d/bin/pulumi" "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    echo "$h" >"$d/.inputs"
  fi
  log "pulumi $PULUMI_VERSION: $d/bin/pulumi"
}

# With the pulumi/pkg and pulumi/sdk it requires (older than the CLI's: it does not compile against those).
# install_plugins puts it beside the CLI, where the CLI looks for its bundled language hosts.
build_pulumi_yaml() {
  local d="$OUT_ROOT/pulumi-yaml-$YAML_VERSION" h; h=$(inputs_hash pulumi-yaml)
  if needs_build "$d" "$h" pulumi-language-yaml; then
    log "pulumi-language-yaml $YAML_VERSION: building (cold: about 2 minutes on 2 cores)"; mkdir -p "$d"
    go_build pulumi-yaml "$d/pulumi-language-yaml" "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_VERSION" \
      github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
    echo "$h" >"$d/.inputs"
  fi
  log "pulumi-language-yaml $YAML_VERSION: $d/pulumi-language-yaml"
}

build_kubernetes_provider() {
  local d="$OUT_ROOT/kubernetes-provider-$KPROVIDER_VERSION-${KPROVIDER_SOURCE##*-}" h src mod
  h=$(inputs_hash kubernetes-provider)
  if needs_build "$d" "$h" pulumi-resource-kubernetes; then
    log "pulumi-resource-kubernetes $KPROVIDER_VERSION (source $KPROVIDER_SOURCE): building"
    mkdir -p "$d"; src="$d/src"; rm -rf "$src"; cp -r kubernetes-provider "$src"; chmod -R u+w "$src"
    # `go list -m` names no directory for a module not yet in the module cache (a cold machine): fetch it first.
    (cd "$src" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4)
    mod=$(cd "$src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
    [ -n "$mod" ] || { echo "engine/build.sh: github.com/pulumi/pulumi-kubernetes/provider/v4 is not in the module cache" >&2; exit 1; }
    # The Kubernetes Go SDK the provider compiles in, trimmed to what it uses (trim_sdk.py says why: a third of
    # the cold build), replacing the proxy's copy for this build only.
    (cd "$src" && go mod download github.com/pulumi/pulumi-kubernetes/sdk/v4)
    sdk=$(cd "$src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/sdk/v4)
    cp -r "$sdk" "$src/sdk" && chmod -R u+w "$src/sdk"
    python3 "$src/trim_sdk.py" "$src/sdk"
    (cd "$src" && go mod edit -replace github.com/pulumi/pulumi-kubernetes/sdk/v4=./sdk)
    # What upstream's `go generate` (cmd/pulumi-resource-kubernetes/generate.go) does: the module's
    # schema.json with the version set, and the compacted terraform mapping.
    python3 - "$mod/cmd/pulumi-resource-kubernetes" "$src" "$KPROVIDER_VERSION" <<'PY'
import json, sys
cmd, src, version = sys.argv[1:]
schema = json.load(open(f"{cmd}/schema.json"))
schema["version"] = version
json.dump(schema, open(f"{src}/schema-embed.json", "w"), separators=(",", ":"))
json.dump(json.load(open(f"{cmd}/terraform-mapping.json")), open(f"{src}/terraform-mapping-embed.json", "w"),
          separators=(",", ":"))
PY
    go_build "$src" "$d/pulumi-resource-kubernetes" \
      "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KPROVIDER_VERSION" .
    echo "$h" >"$d/.inputs"
  fi
  log "pulumi-resource-kubernetes $KPROVIDER_VERSION: $d/pulumi-resource-kubernetes"
}

build_bridged() { # name version
  local name=$1 version=$2 d="$OUT_ROOT/$1-provider-$2" h; h=$(inputs_hash bridged)
  if needs_build "$d" "$h" "pulumi-resource-$name"; then
    log "pulumi-resource-$name $version (terraform-provider-$name, bridged): building"; mkdir -p "$d"
    go_build bridged "$d/pulumi-resource-$name" "-s -w -X main.version=$version" "./cmd/pulumi-resource-$name"
    echo "$h" >"$d/.inputs"
  fi
  log "pulumi-resource-$name $version: $d/pulumi-resource-$name"
}

build_etcd() {
  local d="$OUT_ROOT/etcd-$ETCD_VERSION" h; h=$(inputs_hash etcd)
  if needs_build "$d" "$h" etcd; then
    log "etcd $ETCD_VERSION: building"; mkdir -p "$d"
    go_build etcd "$d/etcd" "-s -w" .
    echo "$h" >"$d/.inputs"
  fi
  log "etcd $ETCD_VERSION: $d/etcd"
}

build_kubernetes() {
  local d="$OUT_ROOT/kubernetes-$KUBE_VERSION" h b; h=$(inputs_hash kubernetes)
  if needs_build "$d" "$h" kube-apiserver kube-controller-manager; then
    mkdir -p "$d"
    for b in kube-apiserver kube-controller-manager; do
      log "$b $KUBE_VERSION: building (cold: a few minutes each on 2 cores)"
      go_build kubernetes "$d/$b" "-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${KUBE_VERSION#v1.}" \
        "k8s.io/kubernetes/cmd/$b"
    done
    echo "$h" >"$d/.inputs"
  fi
  log "kube-apiserver, kube-controller-manager $KUBE_VERSION: $d/"
}

# The plugins go into the tests' own Pulumi home, never the user's (~/.pulumi stays untouched).
install_plugins() {
  local home="$OUT_ROOT/pulumi-home" pulumi="$OUT_ROOT/pulumi-$PULUMI_VERSION/bin/pulumi" spec name version bin
  for spec in "kubernetes $KPROVIDER_VERSION $OUT_ROOT/kubernetes-provider-$KPROVIDER_VERSION-${KPROVIDER_SOURCE##*-}/pulumi-resource-kubernetes" \
              "tls $TLS_VERSION $OUT_ROOT/tls-provider-$TLS_VERSION/pulumi-resource-tls" \
              "random $RANDOM_VERSION $OUT_ROOT/random-provider-$RANDOM_VERSION/pulumi-resource-random"; do
    read -r name version bin <<<"$spec"
    local dest="$home/plugins/resource-$name-v$version/pulumi-resource-$name"
    if ! cmp -s "$bin" "$dest"; then
      PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=true "$pulumi" plugin install resource "$name" "$version" \
        --file "$bin" --reinstall >/dev/null
      log "plugin resource $name $version installed in $home"
    fi
  done
  # The YAML language host is one of the CLI's bundled plugins: `plugin install` refuses it, and the CLI finds
  # it beside itself (as a release ships it), also with ambient plugins off.
  local yaml_bin="$OUT_ROOT/pulumi-yaml-$YAML_VERSION/pulumi-language-yaml"
  local yaml_dest="$OUT_ROOT/pulumi-$PULUMI_VERSION/bin/pulumi-language-yaml"
  if ! cmp -s "$yaml_bin" "$yaml_dest"; then
    cp "$yaml_bin" "$yaml_dest.tmp" && mv "$yaml_dest.tmp" "$yaml_dest"
    log "pulumi-language-yaml ${YAML_VERSION} installed beside the CLI"
  fi
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(pulumi pulumi-yaml kubernetes-provider tls random etcd kubernetes)
for c in "${components[@]}"; do
  case "$c" in
    pulumi) build_pulumi ;;
    pulumi-yaml) build_pulumi_yaml ;;
    kubernetes-provider) build_kubernetes_provider ;;
    tls) build_bridged tls "$TLS_VERSION" ;;
    random) build_bridged random "$RANDOM_VERSION" ;;
    etcd) build_etcd ;;
    kubernetes) build_kubernetes ;;
    *) echo "unknown component: $c" >&2; exit 2 ;;
  esac
done
if [ $# -eq 0 ]; then
  install_plugins
  # Where everything is, for the tests (tests/realk8s/engine.py): written last, so it only names what exists.
  cat >"$OUT_ROOT/engine.json" <<JSON
{"pulumi_root": "$OUT_ROOT/pulumi-$PULUMI_VERSION", "pulumi_home": "$OUT_ROOT/pulumi-home",
 "etcd": "$OUT_ROOT/etcd-$ETCD_VERSION/etcd",
 "kube_apiserver": "$OUT_ROOT/kubernetes-$KUBE_VERSION/kube-apiserver",
 "kube_controller_manager": "$OUT_ROOT/kubernetes-$KUBE_VERSION/kube-controller-manager",
 "plugins": {"kubernetes": "$KPROVIDER_VERSION", "tls": "$TLS_VERSION", "random": "$RANDOM_VERSION"},
 "language_plugins": {"yaml": "${YAML_VERSION#v}"}}
JSON
fi
log "done"
