/*
 * Shared fixture of the accelerated-vsmmu qtests (see the header).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/pci_regs.h"
#include "vsmmu-accel-fixture.h"

/* The tests need the simulated host; without it they say so and skip */
bool have_simhost(void)
{
    return simhost_require();
}

/* QEMU with the accel vsmmu and @o's devices (dev n at slot 2 + n) */
void accel_start_host(AccelFixture *f, SimhostOpts *o, const char *extra,
                      const SimhostSmmuCfg *smmu0)
{
    g_autofree char *args = NULL;

    memset(f, 0, sizeof(*f));
    for (unsigned n = 0; n < o->num_devs; n++) {
        if (!o->dev_props[n]) {
            o->dev_props[n] = g_strdup_printf("addr=%x.0", 2 + n);
        }
    }
    f->sh = simhost_new(o);
    if (smmu0) {
        f->sh->ctl->smmu[0] = *smmu0;
    }
    /* @extra may start with vsmmu properties (",ril=on ...") */
    args = g_strdup_printf("%s%s%s", ACCEL_VSMMU,
                           extra && extra[0] != ',' ? " " : "",
                           extra ? extra : "");
    simhost_qtest_start(f->sh, args);
    if (o->cold_plug_mask & 1) {
        f->t = vsmmu_qtest_attach_devfn(f->sh->qts, DEV0_DEVFN);
        g_assert_cmphex(f->t->base, !=, 0);
    } else {
        f->base = vsmmu_qtest_find_smmu(f->sh->qts, NULL);
    }
}

void accel_start(AccelFixture *f, SimhostOpts *o, const char *extra)
{
    accel_start_host(f, o, extra, NULL);
}

void accel_start_default(AccelFixture *f)
{
    SimhostOpts o = SIMHOST_OPTS_DEFAULT;

    accel_start(f, &o, NULL);
}

/* Quit QEMU and check the host saw every object freed */
void accel_end(AccelFixture *f)
{
    if (f->t) {
        g_free(f->t->dev);
        f->t->dev = NULL;
        alloc_destroy(&f->t->alloc);
        g_free(f->t->smmu_name);
        g_free(f->t);
    }
    simhost_qtest_quit(f->sh);
    g_assert_cmpuint(simhost_leaks(f->sh), ==, 0);
    simhost_free(f->sh);
}

/* Linear stream table, one CD, 4K tables; queues up; SMMUEN set */
void accel_s1_setup(AccelFixture *f)
{
    VsmmuQtest *t = f->t;

    vsmmu_strtab_linear(t, 8);
    vsmmu_pt_init(t, &f->pt, 4096, 48);
    vsmmu_cd_table_linear(t, &f->cdt, 0);
    vsmmu_cd_for_pgtable(f->cd, &f->pt, TEST_ASID);
    vsmmu_cd_write(t, vsmmu_cd_addr(t, &f->cdt, 0), f->cd);
    vsmmu_ste_s1(f->ste, f->cdt.base, f->cdt.fmt, f->cdt.cdmax,
                 STE_S1DSS_TERMINATE);
    vsmmu_ste_write(t, t->sid, f->ste);
    vsmmu_bringup(t, 8, 4);
    vsmmu_enable(t);
}

void fill_pattern(VsmmuQtest *t, uint64_t pa, uint64_t len, uint8_t seed)
{
    g_autofree uint8_t *buf = g_malloc(len);

    for (uint64_t i = 0; i < len; i++) {
        buf[i] = seed + i * 7;
    }
    qtest_memwrite(t->qts, pa, buf, len);
}

bool check_pattern(VsmmuQtest *t, uint64_t pa, uint64_t len, uint8_t seed)
{
    g_autofree uint8_t *buf = g_malloc(len);

    qtest_memread(t->qts, pa, buf, len);
    for (uint64_t i = 0; i < len; i++) {
        if (buf[i] != (uint8_t)(seed + i * 7)) {
            return false;
        }
    }
    return true;
}

unsigned status_code(uint64_t status)
{
    return vsmmu_testdev_status_code(status);
}

char *hmp_info(AccelFixture *f)
{
    return qtest_hmp(f->sh->qts, "info vsmmu");
}


void accel_number_root_port(AccelFixture *f)
{
    QPCIBus *bus;
    QPCIDevice *rp;

    if (f->t) {
        bus = &f->t->pcibus.bus;
    } else {
        simhost_pci_init(f->sh);
        bus = &f->sh->pcibus.bus;
    }
    rp = qpci_device_find(bus, QPCI_DEVFN(8, 0));
    g_assert_nonnull(rp);
    qpci_config_writeb(rp, PCI_SECONDARY_BUS, 1);
    qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, 1);
    g_free(rp);
}
