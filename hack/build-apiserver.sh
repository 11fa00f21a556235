#!/usr/bin/env bash
# Build kube-apiserver 1.20.2 from Debian bookworm's `kubernetes` source package, once,
# into a cache outside the checkout (DESIGN.md §9). Prints the binary's path last.
#
# Why from source: no cluster, no Docker and no Kubernetes release downloads exist on these
# machines; Debian's source package is the only kube-apiserver the registries hold.
# Honours KUBEBUILDER_ASSETS (envtest binaries) and RIPOSTE_APISERVER (a binary of your own).
set -euo pipefail

VERSION="1.20.5+really1.20.2-1.1+deb12u1"
HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"  # CI may run without HOME
CACHE="${RIPOSTE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/riposte}"
OUT="$CACHE/kube-apiserver-1.20.2/kube-apiserver"

say() { printf '[apiserver] %s\n' "$*" >&2; }

if [[ -n "${RIPOSTE_APISERVER:-}" && -x "${RIPOSTE_APISERVER}" ]]; then
  echo "$RIPOSTE_APISERVER"; exit 0
fi
if [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "${KUBEBUILDER_ASSETS}/kube-apiserver" ]]; then
  echo "${KUBEBUILDER_ASSETS}/kube-apiserver"; exit 0
fi
if [[ -x "$OUT" ]]; then
  echo "$OUT"; exit 0
fi

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"

need_pkgs=()
for p in golang-go rsync jq dpkg-dev golang-github-modern-go-reflect2-dev golang-github-json-iterator-go-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$p")
done
if ((${#need_pkgs[@]})); then
  say "installing build packages: ${need_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
fi

WORK="$CACHE/build"
rm -rf "$WORK"; mkdir -p "$WORK/lists/partial"
# A private sources list: the machine's own apt configuration stays untouched.
cat > "$WORK/sources.list" <<SRC
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
SRC
APT_OPTS=(-o "Dir::Etc::sourcelist=$WORK/sources.list" -o Dir::Etc::sourceparts=/dev/null
          -o "Dir::State::Lists=$WORK/lists" -o Debug::NoLocking=1)
say "fetching the kubernetes $VERSION source package index"
apt-get "${APT_OPTS[@]}" update -qq >&2
say "downloading the kubernetes source package (~30 MB)"
(cd "$WORK" && apt-get "${APT_OPTS[@]}" source --download-only -qq "kubernetes=$VERSION" >&2)
say "unpacking and applying debian/patches in series order"
(cd "$WORK" && dpkg-source -x --no-check kubernetes_*.dsc src >&2)
SRCDIR="$WORK/src"

# Must-fix: vendored reflect2 1.0.1 faults under Go >= 1.18 ("fatal error: fault" in map
# iteration); use the 1.0.2 / json-iterator 1.1.12 sources Debian ships.
say "replacing vendored reflect2 and json-iterator with Debian's fixed sources"
for pair in "github.com/modern-go/reflect2" "github.com/json-iterator/go"; do
  rm -rf "$SRCDIR/vendor/$pair"
  mkdir -p "$SRCDIR/vendor/$pair"
  cp -r "/usr/share/gocode/src/$pair/." "$SRCDIR/vendor/$pair/"
  find "$SRCDIR/vendor/$pair" -name '*_test.go' -delete
  rm -rf "$SRCDIR/vendor/$pair/go.mod" "$SRCDIR/vendor/$pair/go.sum"
done

GOPATH_DIR="$WORK/gopath"
mkdir -p "$GOPATH_DIR/src/k8s.io"
ln -sfn "$SRCDIR" "$GOPATH_DIR/src/k8s.io/kubernetes"
say "compiling kube-apiserver (8-10 minutes on 2 cores; go prints each package)"
(
  cd "$GOPATH_DIR/src/k8s.io/kubernetes"
  export GOPATH="$GOPATH_DIR" CGO_ENABLED=0 GO111MODULE=off GOFLAGS=-mod=vendor GOCACHE="$WORK/gocache"
  export KUBE_GIT_VERSION="v1.20.2" KUBE_GIT_TREE_STATE=clean
  make WHAT=cmd/kube-apiserver GOFLAGS=-v >&2
)
mkdir -p "$(dirname "$OUT")"
cp "$SRCDIR/_output/local/bin/linux/$(dpkg --print-architecture)/kube-apiserver" "$OUT.tmp" \
  || cp "$(find "$SRCDIR/_output" -type f -name kube-apiserver | head -1)" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
rm -rf "$WORK"
say "built $OUT"
echo "$OUT"
