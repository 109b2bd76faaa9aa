#!/bin/sh
# The QEMU configure options of the project's two build configurations,
# one place for the Makefile and the e2e cross build (scripts/e2e-qemu.sh):
#
#   scripts/qemu-config.sh test    the test build
#   scripts/qemu-config.sh user    the user build
#   scripts/qemu-config.sh user-packages   Debian packages the user build
#                                          needs beyond the test build's (to
#                                          build it, and ipxe-qemu to run it)
#
# test: what make check, make run and make bench need, quick to build:
#   one target (aarch64-softmmu), TCG, the virt board with the devices it
#   implies (PCIe, virtio, NVMe, vfio-pci with iommufd, the vsmmu and the
#   qtests' DMA test device), system libfdt, no docs, no UI, no blobs.
# user: the same plus what someone running guests on an Arm host (NVIDIA
#   Grace) needs: KVM, user-mode networking (libslirp) next to tap, vhost
#   for virtio-net (vhost-net through the kernel, vhost-user), and
#   installable (make install). It is a superset of the test build, so the
#   tests run with it too.
# Neither installs firmware blobs: Debian's source package (+ds) has none.
# The user build looks for them where Debian's packages put them: the PCI
# NICs' option ROMs (virtio-net-pci wants efi-virtio.rom) in ipxe-qemu's
# /usr/lib/ipxe/qemu; UEFI for the guest comes from qemu-efi-aarch64.
set -eu

base="--target-list=aarch64-softmmu --with-devices-aarch64=minimal
      --python=/usr/bin/python3 --enable-fdt=system
      --without-default-features --enable-tcg"

# (the test build's options keep their order: a different string would
# make every existing build directory reconfigure from scratch)
# shellcheck disable=SC2086  # $base: options, split into words on purpose
case ${1:-} in
test)
    echo $base --disable-docs --disable-install-blobs --disable-werror
    ;;
user)
    echo $base --enable-kvm --enable-slirp --enable-vhost-kernel \
        --enable-vhost-net --enable-vhost-user --disable-docs \
        --disable-install-blobs --disable-werror \
        --firmwarepath=/usr/lib/ipxe/qemu
    ;;
user-packages)
    echo libslirp-dev ipxe-qemu
    ;;
*)
    echo "usage: $0 test|user|user-packages" >&2
    exit 1
    ;;
esac
