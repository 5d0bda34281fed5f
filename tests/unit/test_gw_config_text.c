/* SPDX-License-Identifier: MIT */
/* Unit tests for the gateway config text parser: happy path and every error with its line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gw_config_text.h"

static int parse(const char *text, gw_config_t *cfg, gw_profile_t *prof, gw_config_text_err_t *err)
{
    gateway_config_default(cfg);
    gw_profile_default(prof);
    memset(err, 0, sizeof(*err));
    return gw_config_text_parse(text, strlen(text), cfg, prof, err);
}

static void test_gw_config_text_happy_path(void **state)
{
    (void)state;
    static const char text[] = "# bank in the garage\r\n"
                               "family = tinybms\n"
                               "\n"
                               "  can_period_ms=500   # faster\n"
                               "cell_count = 16\n"
                               "cvl_cell_mv = 3450\n"
                               "charge_min_dc = -50\n"
                               "curve_mode = step\n"
                               "discharge_soc_curve = on\n"
                               "victron_can = 1"; /* no final newline */
    gw_config_t cfg;
    gw_profile_t prof;
    gw_config_text_err_t err;
    assert_int_equal(parse(text, &cfg, &prof, &err), 0);
    assert_int_equal(cfg.family, GW_BMS_TINYBMS);
    assert_int_equal(cfg.can_period_ms, 500);
    assert_int_equal(cfg.victron_can, 1);
    assert_int_equal(prof.cell_count, 16);
    assert_int_equal(prof.cvl_cell_mv, 3450);
    assert_int_equal(prof.charge_min_dc, -50);
    assert_int_equal(prof.curve_mode, GW_CURVE_STEP);
    assert_int_equal(prof.discharge_soc.n, 4);
    assert_int_equal(prof.cell_max_mv, 3650); /* untouched keys keep their defaults */
}

static void test_gw_config_text_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *msg;
    } rows[] = {
        {"cell_max_mv = 7000\n", "1:15: cell_max_mv: expected 2000..5000, got 7000"},
        {"\n# c\ncell_max_mv = 3x\n", "3:15: cell_max_mv: expected 2000..5000, got 3x"},
        {"cvl_cell_mv 3500\n", "1:13: expected '=' after key 'cvl_cell_mv'"},
        {"a = 1\n", "1:1: unknown key 'a'"},
        {"  bogus_key = 1\n", "1:3: unknown key 'bogus_key'"},
        {"family = victron\n", "1:10: family: expected topband, tinybms or superb"},
        {"curve_mode = cubic\n", "1:14: curve_mode: expected linear or step"},
        {"charge_soc_curve = yes\n", "1:20: charge_soc_curve: expected on or off"},
        {"cell_count =   # nothing\n", "1:16: cell_count: missing value"},
        {"charge_min_dc = -401\n", "1:17: charge_min_dc: expected -400..800, got -401"},
        {"rebulk_soc_pct = 99999999999999999999\n",
         "1:18: rebulk_soc_pct: expected 0..100, got 9999999999999999"},
        {"cell_max_release_mv = 3700\n", "0:0: cell_max_release_mv must be below cell_max_mv"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        gw_config_t cfg;
        gw_profile_t prof;
        gw_config_text_err_t err;
        if (parse(rows[i].text, &cfg, &prof, &err) != -1) {
            fail_msg("row %d: parse accepted \"%s\"", (int)i, rows[i].text);
        }
        if (strcmp(err.msg, rows[i].msg) != 0) {
            fail_msg("row %d: msg \"%s\", expected \"%s\"", (int)i, err.msg, rows[i].msg);
        }
    }
}

/* Any bytes: never read past len, always terminate (run under ASan in CI). */
static void test_gw_config_text_garbage(void **state)
{
    (void)state;
    char buf[64];
    uint32_t x = 12345;
    for (int r = 0; r < 2000; r++) {
        size_t n = (size_t)(r % (int)sizeof(buf));
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (char)(x >> 16);
        }
        gw_config_t cfg;
        gw_profile_t prof;
        gw_config_text_err_t err;
        gateway_config_default(&cfg);
        gw_profile_default(&prof);
        memset(&err, 0, sizeof(err));
        int rc = gw_config_text_parse(buf, n, &cfg, &prof, &err);
        if (rc != 0 && memchr(err.msg, 0, sizeof(err.msg)) == NULL) {
            fail_msg("row %d: unterminated message", r);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gw_config_text_happy_path),
        cmocka_unit_test(test_gw_config_text_errors),
        cmocka_unit_test(test_gw_config_text_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
