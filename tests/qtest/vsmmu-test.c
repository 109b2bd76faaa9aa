/*
 * qtests for the vsmmu device: creation on virt, identification registers,
 * command-line errors.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "hw/registerfields.h"
#include "hw/arm/vsmmu/regs.h"

#define VSMMU_ARGS "-M virt -nodefaults -device vsmmu,primary-bus=pcie.0"

/* Base address of the first vsmmu's register pages, from "info mtree" */
static uint64_t vsmmu_base(QTestState *qts)
{
    g_autofree char *mtree = qtest_hmp(qts, "info mtree");
    g_auto(GStrv) lines = g_strsplit(mtree, "\n", -1);

    for (int i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (g_str_has_suffix(lines[i], "): vsmmu")) {
            return g_ascii_strtoull(lines[i], NULL, 16);
        }
    }
    g_assert_not_reached();
}

static void test_idr_defaults(void)
{
    QTestState *qts = qtest_init(VSMMU_ARGS);
    uint64_t base = vsmmu_base(qts);
    uint32_t idr0 = qtest_readl(qts, base + A_IDR0);
    uint32_t idr1 = qtest_readl(qts, base + A_IDR1);
    uint32_t idr3 = qtest_readl(qts, base + A_IDR3);
    uint32_t idr5 = qtest_readl(qts, base + A_IDR5);

    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S1P), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, S2P), ==, 0);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, TTF), ==, 2);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, COHACC), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, ATS), ==, 0);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, ASID16), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, MSI), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, CD2L), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, TTENDIAN), ==, 2);
    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, ST_LEVEL), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr1, IDR1, SIDSIZE), ==, 16);
    g_assert_cmpuint(FIELD_EX32(idr1, IDR1, SSIDSIZE), ==, 16);
    g_assert_cmpuint(FIELD_EX32(idr1, IDR1, CMDQS), ==, 19);
    g_assert_cmpuint(FIELD_EX32(idr1, IDR1, EVENTQS), ==, 19);
    g_assert_cmpuint(FIELD_EX32(idr1, IDR1, PRIQS), ==, 0);
    g_assert_cmpuint(qtest_readl(qts, base + A_IDR2), ==, 0);
    g_assert_cmpuint(FIELD_EX32(idr3, IDR3, RIL), ==, 1);
    g_assert_cmpuint(qtest_readl(qts, base + A_IDR4), ==, 0);
    g_assert_cmpuint(FIELD_EX32(idr5, IDR5, OAS), ==, VSMMU_OAS_44);
    g_assert_cmpuint(FIELD_EX32(idr5, IDR5, GRAN4K), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr5, IDR5, GRAN16K), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr5, IDR5, GRAN64K), ==, 1);
    g_assert_cmpuint(qtest_readl(qts, base + A_IIDR), ==, 0);
    g_assert_cmpuint(FIELD_EX32(qtest_readl(qts, base + A_AIDR), AIDR, MINOR),
                     ==, 1);

    /* Out of reset: disabled, GBPA bypassing with incoming attributes */
    g_assert_cmpuint(qtest_readl(qts, base + A_CR0), ==, 0);
    g_assert_cmpuint(qtest_readl(qts, base + A_CR0ACK), ==, 0);
    g_assert_cmpuint(qtest_readl(qts, base + A_GBPA), ==, VSMMU_GBPA_RESET);
    qtest_quit(qts);
}

static void test_idr_properties(void)
{
    QTestState *qts = qtest_init("-M virt -nodefaults "
                                 "-device vsmmu,primary-bus=pcie.0,oas=48,"
                                 "ssidsize=0,sidsize=8,ril=off,ats=on");
    uint64_t base = vsmmu_base(qts);
    uint32_t idr0 = qtest_readl(qts, base + A_IDR0);
    uint32_t idr1 = qtest_readl(qts, base + A_IDR1);

    g_assert_cmpuint(FIELD_EX32(idr0, IDR0, ATS), ==, 1);
    g_assert_cmpuint(FIELD_EX32(idr1, IDR1, SIDSIZE), ==, 8);
    g_assert_cmpuint(FIELD_EX32(idr1, IDR1, SSIDSIZE), ==, 0);
    g_assert_cmpuint(FIELD_EX32(qtest_readl(qts, base + A_IDR3), IDR3, RIL),
                     ==, 0);
    g_assert_cmpuint(FIELD_EX32(qtest_readl(qts, base + A_IDR5), IDR5, OAS),
                     ==, VSMMU_OAS_48);
    qtest_quit(qts);
}

/* GBPA only changes when written with UPDATE, and UPDATE reads as 0 */
static void test_gbpa_update(void)
{
    QTestState *qts = qtest_init(VSMMU_ARGS);
    uint64_t base = vsmmu_base(qts);

    qtest_writel(qts, base + A_GBPA, R_GBPA_ABORT_MASK);
    g_assert_cmpuint(qtest_readl(qts, base + A_GBPA), ==, VSMMU_GBPA_RESET);
    qtest_writel(qts, base + A_GBPA, R_GBPA_ABORT_MASK | R_GBPA_UPDATE_MASK);
    g_assert_cmpuint(qtest_readl(qts, base + A_GBPA), ==, R_GBPA_ABORT_MASK);
    qtest_quit(qts);
}

/* Run QEMU with @args, expect it to exit with @status and print @expect */
static void expect_qemu_output(const char *args, int status,
                               const char *expect)
{
    g_autofree char *cmd = g_strdup_printf("%s -display none -nodefaults -S %s",
                                           qtest_qemu_binary(NULL), args);
    g_auto(GStrv) argv = NULL;
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    int wait_status;

    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &error));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &wait_status, &error));
    if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != status ||
        (!strstr(out, expect) && !strstr(err, expect))) {
        g_test_message("cmd: %s", cmd);
        g_test_message("stdout: %s", out);
        g_test_message("stderr: %s", err);
        g_test_fail();
    }
}

static void test_second_vsmmu_refused(void)
{
    expect_qemu_output(VSMMU_ARGS " -device vsmmu,primary-bus=pcie.0", 1,
                       "PCI bus 'pcie.0' already has an IOMMU (vsmmu)");
}

static void test_arm_smmuv3_on_same_bus_refused(void)
{
    expect_qemu_output(VSMMU_ARGS " -device arm-smmuv3,primary-bus=pcie.0", 1,
                       "PCI bus 'pcie.0' already has an IOMMU");
    expect_qemu_output("-M virt,iommu=smmuv3 "
                       "-device vsmmu,primary-bus=pcie.0", 1,
                       "vsmmu cannot be combined with -machine iommu=smmuv3");
}

static void test_bad_properties(void)
{
    expect_qemu_output("-M virt -device vsmmu", 1,
                       "property 'primary-bus' is required");
    expect_qemu_output(VSMMU_ARGS ",oas=45", 1,
                       "oas=45 is not an SMMUv3 output address size");
    expect_qemu_output(VSMMU_ARGS ",ssidsize=21", 1,
                       "ssidsize=21 out of range");
    expect_qemu_output(VSMMU_ARGS ",oas=big", 1,
                       "oas=big: expected 'auto' or a number");
    expect_qemu_output(VSMMU_ARGS ",ssidsize=300", 1,
                       "ssidsize=300: expected 'auto' or a number");
    expect_qemu_output(VSMMU_ARGS ",ril=maybe", 1, "ril");
}

static void test_help(void)
{
    expect_qemu_output("-device vsmmu,help", 0, "ssidsize=<str>");
    expect_qemu_output("-device vsmmu,help", 0,
                       "oas=<str>              - 'auto' or a number");
    expect_qemu_output("-device vsmmu,help", 0, "ril=<OnOffAuto>");
    expect_qemu_output("-device vsmmu,help", 0, "primary-bus=<link<PCI>>");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vsmmu/idr/defaults", test_idr_defaults);
    qtest_add_func("/vsmmu/idr/properties", test_idr_properties);
    qtest_add_func("/vsmmu/regs/gbpa-update", test_gbpa_update);
    qtest_add_func("/vsmmu/cmdline/second-vsmmu-refused",
                   test_second_vsmmu_refused);
    qtest_add_func("/vsmmu/cmdline/other-iommu-refused",
                   test_arm_smmuv3_on_same_bus_refused);
    qtest_add_func("/vsmmu/cmdline/bad-properties", test_bad_properties);
    qtest_add_func("/vsmmu/cmdline/help", test_help);
    return g_test_run();
}
