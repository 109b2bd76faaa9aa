/*
 * vsmmu libFuzzer targets: what the harness's files share
 *
 *   vsmmu-fuzz.c          the targets, their machines, the operations and
 *                         the fuzz loop
 *   vsmmu-fuzz-host.c     vsmmu-accel's simulated host
 *   vsmmu-fuzz-restore.c  the same state before every input
 *   vsmmu-fuzz-config.c   the configurations the vsmmu refuses
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_FUZZ_VSMMU_FUZZ_H
#define TESTS_FUZZ_VSMMU_FUZZ_H

#include "tests/qtest/libqtest.h"

/* An operation's operands; reading past the end gives zero bytes */
typedef struct Rd {
    const uint8_t *p;
    size_t len;
} Rd;

/* The next @n operand bytes, little-endian */
static inline uint64_t rd(Rd *r, unsigned n)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < n; i++) {
        if (r->len) {
            v |= (uint64_t)*r->p << (8 * i);
            r->p++;
            r->len--;
        }
    }
    return v;
}

/* ---- vsmmu-fuzz-host.c ----------------------------------------------- */

/*
 * Before QEMU starts (the accel targets only): the simulated host's
 * descriptors, its SMMU with a CMDQV if @cmdqv; the first call execs this
 * binary again with the host preloaded
 */
void vsmmu_fuzz_host_setup(bool cmdqv, int *fd_iommufd, int *fd_vfio);
/* OP_HOST: a host failure to inject or a host event to raise */
void vsmmu_fuzz_host_op(QTestState *s, Rd *r);
/* OPX_HOST_CMDQV: a host CMDQV error, or the host's queues consumed */
void vsmmu_fuzz_host_cmdqv_op(QTestState *s, Rd *r);
/* Between inputs: every injection cleared (no-op without a host) */
void vsmmu_fuzz_host_reset(void);

/* ---- vsmmu-fuzz-restore.c -------------------------------------------- */

/*
 * Once before the first input: reset the machine, call @enable to redo
 * what the harness set up after its enumeration (it is called after
 * every machine reset), snapshot guest RAM and start its dirty log
 */
void vsmmu_fuzz_restore_init(QTestState *s, void (*enable)(QTestState *s));
/* A machine reset and @enable, in one memory transaction */
void vsmmu_fuzz_machine_reset(QTestState *s);
/* Every RAM page written since the last restore, back from the snapshot */
void vsmmu_fuzz_ram_restore(void);

/* ---- vsmmu-fuzz-config.c --------------------------------------------- */

/* Once: the configurations realize refuses, on vsmmus never realized */
void vsmmu_fuzz_config_checks(Object *vsmmu);

#endif /* TESTS_FUZZ_VSMMU_FUZZ_H */
