#!/usr/bin/env bash
# A stand-in for docker.io/library/node:20-bookworm-slim on a machine that cannot pull from Docker
# Hub: this machine's Node 20 (and npm) with the C libraries it links, Debian's busybox-static for
# a shell, and the system CA bundle, imported as localhost/node:20-local. Then:
#   podman build --build-arg NODE_IMAGE=localhost/node:20-local -t connector-preflight .
# Needs root, podman, busybox-static (apt-get install podman runc busybox-static).
set -euo pipefail
node_bin=$(command -v node)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,usr/bin,usr/local/bin,usr/lib/node_modules,etc/ssl/certs,tmp,home/node}
cp /bin/busybox "$root/bin/busybox"
for tool in sh ash env ls cat cp mv rm mkdir ln chown id sed grep wget true test; do ln -sf /bin/busybox "$root/bin/$tool"; done
ln -sf /bin/env "$root/usr/bin/env"
cp "$node_bin" "$root/usr/local/bin/node"
for lib in $(ldd "$node_bin" | grep -o '/lib[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
cp -a "$npm_dir" "$root/usr/lib/node_modules/npm"
ln -sf /usr/lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
chmod 1777 "$root/tmp" && chown 1000:1000 "$root/home/node"
tar -C "$root" -c . | podman import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' - localhost/node:20-local
