#!/bin/sh
# make install: QEMU's own install (meson install) of a build directory,
# placed under a prefix.
#
#   install.sh QEMU_BUILD_DIR PREFIX test|user
#
# The user build installs everything QEMU installs for its configuration
# (the binary, trace-events-all, keymaps, icons); the test build only what
# QEMU tags "runtime": the qemu-system-aarch64 binary.
#
# QEMU is relocatable (it finds its data relative to its own binary), so
# the install is staged with the prefix the build was configured with and
# then moved under PREFIX: any PREFIX, no reconfigure, no rebuild. Only the
# targets the install needs are built, not all of QEMU's tests.
set -eu
build=$(cd "$1" && pwd)
prefix=$2
config=$3
meson=$build/pyvenv/bin/meson
stage=$build/install-stage
log() { echo "install: $*"; }

case $prefix in
/*) ;;
*) echo "install: PREFIX must be an absolute path, not '$prefix'" >&2; exit 1 ;;
esac

case $config in
test) tags="--tags runtime" ;;
user) tags="" ;;
*) echo "install: configuration test or user, not '$config'" >&2; exit 1 ;;
esac

# What the install needs, built; configured prefix
"$meson" introspect --targets "$build" > "$build/install-targets.json"
"$meson" introspect --buildoptions "$build" > "$build/install-options.json"
needed=$(python3 - "$build" "$tags" <<'EOF'
import json, os, sys
build, tags = sys.argv[1], sys.argv[2]
with open(os.path.join(build, "install-targets.json")) as f:
    targets = json.load(f)
out = []
for t in targets:
    if not t.get("installed"):
        continue
    for fn, tag in zip(t["filename"], t.get("install_tag") or
                       [None] * len(t["filename"])):
        if not tags or tag == "runtime":
            out.append(os.path.relpath(fn, build))
print(" ".join(out))
EOF
)
configured=$(python3 -c '
import json, sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == "prefix":
        print(o["value"])' "$build/install-options.json")
# shellcheck disable=SC2086  # target paths have no spaces
ninja -C "$build" $needed >/dev/null

rm -rf "$stage"
# shellcheck disable=SC2086
"$meson" install -C "$build" --no-rebuild --quiet $tags --destdir "$stage"
mkdir -p "$prefix"
cp -R "$stage$configured/." "$prefix/"
find "$stage$configured" -type f | sed "s|^$stage$configured|$prefix|" |
    sort > "$build/installed-files.txt"
log "$(wc -l < "$build/installed-files.txt") files under $prefix" \
    "(list: ${build#"$PWD"/}/installed-files.txt)"
rm -rf "$stage"
