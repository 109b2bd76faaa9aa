/*
 * qtests of the host MSI window description (msi-window, docs/msi.md):
 * the IORT RMR nodes and the host bridges' _DSM function 5 read from the
 * ACPI tables the machine offers over fw_cfg, and the device tree's
 * reserved-memory window read from "-machine dumpdtb".
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "vsmmu-qtest-fw.h"
#include "hw/arm/vsmmu/msi.h"

#include <libfdt.h>

#define IORT_NODE_SMMUV3    4
#define IORT_NODE_RMR       6

/* ---- ACPI tables over fw_cfg -------------------------------------------- */

typedef struct AcpiTables {
    uint8_t *blob;
    uint32_t len;
    const uint8_t *iort, *dsdt;
    uint32_t iort_len, dsdt_len;
} AcpiTables;

/*
 * The table with signature @sig: the blob holds the tables one after the
 * other, each starting with its header (checksums are left to the
 * firmware, which fills them in after linking).
 */
static const uint8_t *acpi_find(AcpiTables *t, const char *sig, uint32_t *len)
{
    uint32_t off = 0;

    while (off + 36 <= t->len) {
        const uint8_t *p = t->blob + off;
        uint32_t l = ldl_le_p(p + 4);

        if (l < 36 || off + l > t->len) {
            /* alignment padding between tables, or the blob's tail */
            off++;
            continue;
        }
        if (!memcmp(p, sig, 4)) {
            *len = l;
            return p;
        }
        off += l;
    }
    g_assert_not_reached();
}

static void acpi_load(AcpiTables *t, const char *args)
{
    QTestState *qts = qtest_init(args);

    size_t len;

    t->blob = vsmmu_qtest_fw_cfg_file(qts, "etc/acpi/tables", &len);
    t->len = len;
    qtest_quit(qts);
    t->iort = acpi_find(t, "IORT", &t->iort_len);
    t->dsdt = acpi_find(t, "DSDT", &t->dsdt_len);
}

/* The IORT node at @off, checked to lie inside the table */
static const uint8_t *iort_node(AcpiTables *t, uint32_t off)
{
    g_assert_cmpuint(off + 16, <=, t->iort_len);
    g_assert_cmpuint(off + lduw_le_p(t->iort + off + 1), <=, t->iort_len);
    return t->iort + off;
}

/* Walk the IORT nodes; return the number of type @type, the last in *@out */
static int iort_count(AcpiTables *t, uint8_t type, uint32_t *out)
{
    uint32_t nodes = ldl_le_p(t->iort + 36), off = ldl_le_p(t->iort + 40);
    int n = 0;

    for (uint32_t i = 0; i < nodes; i++) {
        const uint8_t *node = iort_node(t, off);

        if (node[0] == type) {
            n++;
            if (out) {
                *out = off;
            }
        }
        off += lduw_le_p(node + 1);
    }
    g_assert_cmpuint(off, ==, t->iort_len);     /* node count is exact */
    return n;
}

/* The IORT offset of the SMMUv3 node at @base */
static uint32_t iort_smmu_at(AcpiTables *t, uint64_t base)
{
    uint32_t nodes = ldl_le_p(t->iort + 36), off = ldl_le_p(t->iort + 40);

    for (uint32_t i = 0; i < nodes; i++) {
        const uint8_t *node = iort_node(t, off);

        if (node[0] == IORT_NODE_SMMUV3 && ldq_le_p(node + 16) == base) {
            return off;
        }
        off += lduw_le_p(node + 1);
    }
    g_assert_not_reached();
}

/* Check the RMR node at @off: the window, for StreamIDs of @bus_nr */
static void check_rmr(AcpiTables *t, uint32_t off, uint32_t bus_nr,
                      uint32_t smmu_off)
{
    const uint8_t *rmr = iort_node(t, off);
    const uint8_t *map, *range;

    g_assert_cmpuint(rmr[0], ==, IORT_NODE_RMR);
    g_assert_cmpuint(lduw_le_p(rmr + 1), ==, 28 + 20 + 20);
    g_assert_cmpuint(rmr[3], ==, 3);                  /* E.d revision */
    g_assert_cmpuint(ldl_le_p(rmr + 8), ==, 1);       /* ID mappings */
    g_assert_cmpuint(ldl_le_p(rmr + 16), ==, 0);      /* flags: device, */
                                                      /* no remapping */
    g_assert_cmpuint(ldl_le_p(rmr + 20), ==, 1);      /* ranges */

    map = rmr + ldl_le_p(rmr + 12);
    g_assert_cmphex(ldl_le_p(map), ==, bus_nr << 8);          /* input */
    g_assert_cmphex(ldl_le_p(map + 4), ==, 0xff);             /* count-1 */
    g_assert_cmphex(ldl_le_p(map + 8), ==, bus_nr << 8);      /* SID base */
    g_assert_cmphex(ldl_le_p(map + 12), ==, smmu_off);        /* -> SMMU */

    range = rmr + ldl_le_p(rmr + 24);
    g_assert_cmphex(ldq_le_p(range), ==, VSMMU_MSI_WINDOW_BASE);
    g_assert_cmphex(ldq_le_p(range + 8), ==, VSMMU_MSI_WINDOW_SIZE);
}

/* AML of "If (Arg2 == 5) { Return (Zero) }", _DSM function 5 */
static const uint8_t dsm_fn5[] = { 0xa0, 0x07, 0x93, 0x6a, 0x0a, 0x05,
                                   0xa4, 0x00 };
/* AML of "Return (Buffer (One) { 0x21 })": functions 0 and 5 supported */
static const uint8_t dsm_fn0_with_5[] = { 0xa4, 0x11, 0x03, 0x01, 0x21 };

/* Occurrences of @pat in the DSDT, after the first @name_before if given */
static int dsdt_find(AcpiTables *t, const uint8_t *pat, size_t n,
                     const char *name_before)
{
    int found = 0;
    const uint8_t *scope = t->dsdt;

    if (name_before) {
        scope = memmem(t->dsdt, t->dsdt_len, name_before,
                       strlen(name_before));
        g_assert_nonnull(scope);
    }
    for (const uint8_t *p = scope; p + n <= t->dsdt + t->dsdt_len; p++) {
        if (!memcmp(p, pat, n)) {
            found++;
        }
    }
    return found;
}

static uint64_t vsmmu_base_of(QTestState *qts, int nth)
{
    g_autofree char *mtree = qtest_hmp(qts, "info mtree");
    g_auto(GStrv) lines = g_strsplit(mtree, "\n", -1);

    for (int i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (g_str_has_suffix(lines[i], "): vsmmu") && !nth--) {
            return g_ascii_strtoull(lines[i], NULL, 16);
        }
    }
    g_assert_not_reached();
}

#define MSI_ARGS "-M virt -nodefaults "

static void test_acpi_on(void)
{
    const char *args = MSI_ARGS
        "-device vsmmu,primary-bus=pcie.0,msi-window=on";
    QTestState *qts = qtest_init(args);
    uint64_t base = vsmmu_base_of(qts, 0);
    AcpiTables t = {};
    uint32_t rmr;

    qtest_quit(qts);
    acpi_load(&t, args);
    g_assert_cmpuint(t.iort[8], ==, VSMMU_MSI_IORT_REVISION);
    g_assert_cmpint(iort_count(&t, IORT_NODE_SMMUV3, NULL), ==, 1);
    g_assert_cmpint(iort_count(&t, IORT_NODE_RMR, &rmr), ==, 1);
    check_rmr(&t, rmr, 0, iort_smmu_at(&t, base));

    g_assert_cmpint(dsdt_find(&t, dsm_fn5, sizeof(dsm_fn5), NULL), ==, 1);
    g_assert_cmpint(dsdt_find(&t, dsm_fn0_with_5, sizeof(dsm_fn0_with_5),
                              NULL), ==, 1);
    g_free(t.blob);
}

/* Explicitly off, and auto without accel: the tables do not change */
static void test_acpi_off(void)
{
    const char *opts[] = { ",msi-window=off", "", ",msi-window=auto" };

    for (int i = 0; i < ARRAY_SIZE(opts); i++) {
        g_autofree char *args = g_strdup_printf(
            MSI_ARGS "-device vsmmu,primary-bus=pcie.0%s", opts[i]);
        AcpiTables t = {};

        acpi_load(&t, args);
        g_assert_cmpuint(t.iort[8], ==, 3);
        g_assert_cmpint(iort_count(&t, IORT_NODE_SMMUV3, NULL), ==, 1);
        g_assert_cmpint(iort_count(&t, IORT_NODE_RMR, NULL), ==, 0);
        g_assert_cmpint(dsdt_find(&t, dsm_fn5, sizeof(dsm_fn5), NULL), ==, 0);
        g_free(t.blob);
    }
}

/*
 * Two root complexes, each with a vsmmu; only the pxb-pcie's describes
 * its window: one RMR node for bus 0x80's StreamIDs, on that vsmmu's
 * SMMUv3 node, and _DSM function 5 only in the pxb's host bridge (PC80,
 * which the DSDT lists before PCI0).
 */
static void test_acpi_pxb(void)
{
    const char *args = MSI_ARGS
        "-device pxb-pcie,id=pxb1,bus_nr=0x80,bus=pcie.0 "
        "-device vsmmu,primary-bus=pcie.0,msi-window=off "
        "-device vsmmu,primary-bus=pxb1,msi-window=on";
    QTestState *qts = qtest_init(args);
    uint64_t base0 = vsmmu_base_of(qts, 0), base1 = vsmmu_base_of(qts, 1);
    AcpiTables t = {};
    uint32_t rmr;

    qtest_quit(qts);
    acpi_load(&t, args);
    g_assert_cmpuint(t.iort[8], ==, VSMMU_MSI_IORT_REVISION);
    g_assert_cmpint(iort_count(&t, IORT_NODE_SMMUV3, NULL), ==, 2);
    g_assert_cmpint(iort_count(&t, IORT_NODE_RMR, &rmr), ==, 1);
    g_assert_cmphex(iort_smmu_at(&t, base0), !=, iort_smmu_at(&t, base1));
    check_rmr(&t, rmr, 0x80, iort_smmu_at(&t, base1));

    g_assert_cmpint(dsdt_find(&t, dsm_fn5, sizeof(dsm_fn5), "PC80"), ==, 1);
    g_assert_cmpint(dsdt_find(&t, dsm_fn5, sizeof(dsm_fn5), "PCI0"), ==, 0);
    g_free(t.blob);
}

/* Both vsmmus describe their window: two RMR nodes, two _DSM #5 */
static void test_acpi_two(void)
{
    const char *args = MSI_ARGS
        "-device pxb-pcie,id=pxb1,bus_nr=0x80,bus=pcie.0 "
        "-device vsmmu,primary-bus=pcie.0,msi-window=on "
        "-device vsmmu,primary-bus=pxb1,msi-window=on";
    AcpiTables t = {};
    uint32_t nodes, off, seen = 0;

    acpi_load(&t, args);
    g_assert_cmpint(iort_count(&t, IORT_NODE_RMR, NULL), ==, 2);
    nodes = ldl_le_p(t.iort + 36);
    off = ldl_le_p(t.iort + 40);
    for (uint32_t i = 0; i < nodes; i++) {
        const uint8_t *node = iort_node(&t, off);

        if (node[0] == IORT_NODE_RMR) {
            uint32_t sid = ldl_le_p(node + ldl_le_p(node + 12) + 8);

            seen |= sid == 0 ? 1 : sid == 0x8000 ? 2 : 4;
        }
        off += lduw_le_p(node + 1);
    }
    g_assert_cmphex(seen, ==, 3);
    g_assert_cmpint(dsdt_find(&t, dsm_fn5, sizeof(dsm_fn5), NULL), ==, 2);
    g_free(t.blob);
}

/* ---- device tree --------------------------------------------------------- */

static uint32_t fdt_cell(const void *fdt, const char *path, const char *prop,
                         int idx)
{
    int node = fdt_path_offset(fdt, path), len;
    const fdt32_t *val;

    g_assert_cmpint(node, >=, 0);
    val = fdt_getprop(fdt, node, prop, &len);
    g_assert_nonnull(val);
    g_assert_cmpint(len, >, idx * 4);
    return fdt32_to_cpu(val[idx]);
}

#define DT_WINDOW   "/reserved-memory/vsmmu-msi@8000000"
#define DT_PCIE     "/pcie@10000000"

/*
 * pcie.0: the host bridge function (00.0), a root port at 01.0 with a
 * device behind it, a two-function device at 02.0/02.1.
 */
#define DT_TOPOLOGY \
    "-device pcie-root-port,id=rp0,bus=pcie.0,addr=1.0,chassis=1 " \
    "-device virtio-scsi-pci,bus=rp0 " \
    "-device virtio-scsi-pci,bus=pcie.0,addr=2.0,multifunction=on " \
    "-device virtio-scsi-pci,bus=pcie.0,addr=2.1 "

static void test_dt_on(void)
{
    g_autofree void *fdt = vsmmu_qtest_dtb(DT_TOPOLOGY
                                  "-device vsmmu,primary-bus=pcie.0,"
                                  "msi-window=on", NULL);
    const char *funcs[] = { DT_PCIE "/pci@0", DT_PCIE "/pci@1",
                            DT_PCIE "/pci@1/pci@0", DT_PCIE "/pci@2",
                            DT_PCIE "/pci@2,1" };
    const uint32_t devfn[] = { 0x00, 0x08, 0x00, 0x10, 0x11 };
    uint32_t window;
    const fdt32_t *map;
    int len, n;

    /* reg = the window, so Linux makes it a direct region; not RAM */
    g_assert_cmpuint(fdt_cell(fdt, "/reserved-memory", "#address-cells", 0),
                     ==, 2);
    g_assert_cmphex(fdt_cell(fdt, DT_WINDOW, "reg", 1), ==,
                    VSMMU_MSI_WINDOW_BASE);
    g_assert_cmphex(fdt_cell(fdt, DT_WINDOW, "reg", 3), ==,
                    VSMMU_MSI_WINDOW_SIZE);
    g_assert_nonnull(fdt_getprop(fdt, fdt_path_offset(fdt, DT_WINDOW),
                                 "no-map", NULL));
    window = fdt_cell(fdt, DT_WINDOW, "phandle", 0);

    map = fdt_getprop(fdt, fdt_path_offset(fdt, DT_WINDOW), "iommu-addresses",
                      &len);
    g_assert_nonnull(map);
    n = len / (6 * 4);
    g_assert_cmpint(len, ==, n * 6 * 4);
    g_assert_cmpint(n, ==, ARRAY_SIZE(funcs));

    for (int i = 0; i < ARRAY_SIZE(funcs); i++) {
        uint32_t ph = fdt_cell(fdt, funcs[i], "phandle", 0);
        int j;

        g_test_message("function node %s", funcs[i]);
        g_assert_cmphex(fdt_cell(fdt, funcs[i], "reg", 0), ==, devfn[i] << 8);
        g_assert_cmphex(fdt_cell(fdt, funcs[i], "memory-region", 0), ==,
                        window);
        j = 0;
        while (j < n && fdt32_to_cpu(map[j * 6]) != ph) {
            j++;
        }
        g_assert_cmpint(j, <, n);
        g_assert_cmphex(fdt32_to_cpu(map[j * 6 + 2]), ==, 0);
        g_assert_cmphex(fdt32_to_cpu(map[j * 6 + 3]), ==,
                        VSMMU_MSI_WINDOW_BASE);
        g_assert_cmphex(fdt32_to_cpu(map[j * 6 + 4]), ==, 0);
        g_assert_cmphex(fdt32_to_cpu(map[j * 6 + 5]), ==,
                        VSMMU_MSI_WINDOW_SIZE);
    }
    /* The root port is a PCI bus node: its children's addresses are PCI */
    g_assert_cmpuint(fdt_cell(fdt, DT_PCIE "/pci@1", "#address-cells", 0),
                     ==, 3);
    g_assert_cmpstr(fdt_getprop(fdt, fdt_path_offset(fdt, DT_PCIE "/pci@1"),
                                "device_type", NULL), ==, "pci");
}

static void test_dt_off(void)
{
    g_autofree void *fdt = vsmmu_qtest_dtb(DT_TOPOLOGY
                                  "-device vsmmu,primary-bus=pcie.0", NULL);

    g_assert_cmpint(fdt_path_offset(fdt, DT_WINDOW), <, 0);
    g_assert_cmpint(fdt_path_offset(fdt, DT_PCIE "/pci@1"), <, 0);
}

/*
 * A function plugged after the device tree was built has no node: QEMU
 * says so on stderr; cold-plugged functions draw no warning.
 */
static void test_dt_hotplug_warning(void)
{
    g_autofree char *path = NULL;
    g_autofree char *log = NULL;
    g_autoptr(GError) error = NULL;
    const char *warn = "was plugged after the device tree was built";
    QTestState *qts;
    int fd, saved;

    fd = g_file_open_tmp("vsmmu-msi-XXXXXX.log", &path, &error);
    g_assert_no_error(error);
    /* QEMU inherits our stderr: point it at the file while it starts */
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    qts = qtest_init(MSI_ARGS DT_TOPOLOGY
                     "-device pcie-root-port,id=rp1,bus=pcie.0,addr=3.0,"
                     "chassis=2 "
                     "-device vsmmu,primary-bus=pcie.0,msi-window=on");
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);

    qtest_qmp_device_add(qts, "virtio-scsi-pci", "hot0",
                         "{'bus': 'rp1'}");
    qtest_quit(qts);
    g_assert_true(g_file_get_contents(path, &log, NULL, &error));
    unlink(path);
    g_test_message("QEMU stderr: %s", log);
    g_assert_nonnull(strstr(log, warn));
    g_assert_nonnull(strstr(log, "rp1/00 (virtio-scsi-pci)"));
    /* Once, for the hotplugged function only */
    g_assert_null(strstr(strstr(log, warn) + 1, warn));
}

/* Booted through firmware with ACPI, the IORT covers hotplug: no warning */
static void test_dt_hotplug_acpi_quiet(void)
{
    const char *fw = g_getenv("VSMMU_UEFI_FIRMWARE") ?:
                     "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd";
    g_autofree char *path = NULL;
    g_autofree char *log = NULL;
    g_autofree char *args = NULL;
    g_autoptr(GError) error = NULL;
    QTestState *qts;
    int fd, saved;

    if (!g_file_test(fw, G_FILE_TEST_EXISTS)) {
        g_test_skip("no UEFI firmware (Debian package qemu-efi-aarch64)");
        return;
    }
    fd = g_file_open_tmp("vsmmu-msi-XXXXXX.log", &path, &error);
    g_assert_no_error(error);
    args = g_strdup_printf(MSI_ARGS "-bios %s "
                           "-device pcie-root-port,id=rp1,bus=pcie.0,"
                           "chassis=2 "
                           "-device vsmmu,primary-bus=pcie.0,msi-window=on",
                           fw);
    fflush(stderr);
    saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    qts = qtest_init(args);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(fd);

    qtest_qmp_device_add(qts, "virtio-scsi-pci", "hot0", "{'bus': 'rp1'}");
    qtest_quit(qts);
    g_assert_true(g_file_get_contents(path, &log, NULL, &error));
    unlink(path);
    g_test_message("QEMU stderr: %s", log);
    g_assert_null(strstr(log, "was plugged after the device tree"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qtest_add_func("/vsmmu-msi/acpi/rmr-and-dsm", test_acpi_on);
    qtest_add_func("/vsmmu-msi/acpi/off-and-auto", test_acpi_off);
    qtest_add_func("/vsmmu-msi/acpi/pxb-only", test_acpi_pxb);
    qtest_add_func("/vsmmu-msi/acpi/two-root-complexes", test_acpi_two);
    qtest_add_func("/vsmmu-msi/dt/window-and-functions", test_dt_on);
    qtest_add_func("/vsmmu-msi/dt/off", test_dt_off);
    qtest_add_func("/vsmmu-msi/dt/hotplug-warning", test_dt_hotplug_warning);
    qtest_add_func("/vsmmu-msi/dt/hotplug-acpi-quiet",
                   test_dt_hotplug_acpi_quiet);
    return g_test_run();
}
