#!/bin/sh
# Link the project's directories into the QEMU tree, so that editing one of
# our files rebuilds only that file (no copies):
#   hw/arm/vsmmu        -> hw/arm/vsmmu      (the device)
#   hw/vfio/vsmmu       -> hw/vfio           (our iommufd nesting helpers)
#   tests/qtest/vsmmu   -> tests/qtest       (our qtests)
#   tests/qtest/fuzz/vsmmu -> tests/fuzz     (our libFuzzer targets)
#   tests/qtest/simhost -> tests/simhost     (the simulated host's header)
#   include/...         -> include/...       (each header, same path)
set -eu
top=$1; src=$2

link() {
    [ "$(readlink "$2" 2>/dev/null)" = "$1" ] || ln -sfn "$1" "$2"
}
link "$top/hw/arm/vsmmu" "$src/hw/arm/vsmmu"
link "$top/hw/vfio" "$src/hw/vfio/vsmmu"
link "$top/tests/qtest" "$src/tests/qtest/vsmmu"
link "$top/tests/fuzz" "$src/tests/qtest/fuzz/vsmmu"
# The qtests include "../simhost/simhost-ctl.h": the compiler opens it
# through the vsmmu link (our tests/simhost), but records the path
# tests/qtest/simhost in its dependency files. Make that path exist, or
# ninja sees a missing input and rebuilds those qtests on every make.
link "$top/tests/simhost" "$src/tests/qtest/simhost"
(cd "$top" && find include -type f) | while read -r h; do
    mkdir -p "$src/$(dirname "$h")"
    link "$top/$h" "$src/$h"
done
