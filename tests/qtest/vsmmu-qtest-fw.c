/*
 * The device tree and the fw_cfg files of a virt machine (qtests)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "vsmmu-qtest-fw.h"

void *vsmmu_qtest_dtb(const char *args, size_t *len)
{
    g_autofree char *path = NULL, *cmd = NULL, *err = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) argv = NULL;
    gchar *dtb;
    gsize n;
    int fd, status;

    fd = g_file_open_tmp("vsmmu-qtest-XXXXXX.dtb", &path, &error);
    g_assert_no_error(error);
    close(fd);
    cmd = g_strdup_printf("%s -display none -nodefaults -M virt,dumpdtb=%s %s",
                          qtest_qemu_binary(NULL), path, args);
    g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &error));
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               NULL, &err, &status, &error));
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        g_test_message("%s: %s", cmd, err);
    }
    g_assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
    g_assert_true(g_file_get_contents(path, &dtb, &n, &error));
    unlink(path);
    if (len) {
        *len = n;
    }
    return dtb;
}

/* virt's fw_cfg: data at 0, selector at 8, DMA address (big-endian) at 16 */
#define VIRT_FW_CFG_BASE        0x09020000ULL
#define VIRT_RAM                0x40000000ULL
#define FW_CFG_FILE_DIR_KEY     0x19
#define FW_CFG_DMA_ERROR        0x01
#define FW_CFG_DMA_READ         0x02
#define FW_CFG_DMA_SELECT       0x08

/* Read @len bytes of item @key with one DMA transfer through RAM */
static void fw_cfg_read(QTestState *qts, uint16_t key, void *buf, size_t len)
{
    const uint64_t desc = VIRT_RAM, data = VIRT_RAM + 0x1000;
    struct {
        uint32_t control;
        uint32_t length;
        uint64_t address;
    } QEMU_PACKED access = {
        .control = cpu_to_be32((uint32_t)key << 16 | FW_CFG_DMA_SELECT |
                               FW_CFG_DMA_READ),
        .length = cpu_to_be32(len),
        .address = cpu_to_be64(data),
    };

    qtest_memwrite(qts, desc, &access, sizeof(access));
    qtest_writeq(qts, VIRT_FW_CFG_BASE + 16, bswap64(desc));
    qtest_memread(qts, desc, &access, sizeof(access));
    g_assert_cmphex(be32_to_cpu(access.control) & FW_CFG_DMA_ERROR, ==, 0);
    qtest_memread(qts, data, buf, len);
}

uint8_t *vsmmu_qtest_fw_cfg_file(QTestState *qts, const char *name,
                                 size_t *len)
{
    uint32_t count;
    g_autofree uint8_t *dir = NULL;

    fw_cfg_read(qts, FW_CFG_FILE_DIR_KEY, &count, 4);
    count = be32_to_cpu(count);
    dir = g_malloc(4 + 64 * count);
    fw_cfg_read(qts, FW_CFG_FILE_DIR_KEY, dir, 4 + 64 * count);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *e = dir + 4 + 64 * i;

        if (!strcmp((char *)e + 8, name)) {
            uint8_t *buf;

            *len = ldl_be_p(e);
            buf = g_malloc(*len);
            fw_cfg_read(qts, lduw_be_p(e + 4), buf, *len);
            return buf;
        }
    }
    g_assert_not_reached();
}
