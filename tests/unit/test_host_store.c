/* SPDX-License-Identifier: MIT */
/* Host persistent store and GPIO status file: round trips through real
 * files in a temporary directory, malformed lines, bounds. */
#define _DEFAULT_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gpio_host.h"
#include "host_store.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/bms_store_XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_host_store_missing_file_is_empty(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/none", dir);
    host_store_t s;
    assert_int_equal(host_store_load(&s, path, err, sizeof err), 0);
    assert_int_equal(s.n, 0);
    assert_null(host_store_get(&s, "boots"));
}

static void test_host_store_round_trip(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/rt", dir);
    host_store_t s;
    assert_int_equal(host_store_load(&s, path, err, sizeof err), 0);
    assert_int_equal(host_store_set(&s, "boots", "3"), 0);
    assert_int_equal(host_store_set(&s, "last_exit", "signal 15"), 0);
    assert_int_equal(host_store_set(&s, "boots", "4"), 0); /* replaces */
    assert_int_equal(host_store_save(&s, err, sizeof err), 0);
    host_store_t t;
    assert_int_equal(host_store_load(&t, path, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(host_store_get(&t, "boots"), "4");
    assert_string_equal(host_store_get(&t, "last_exit"), "signal 15");
    assert_int_equal(t.bad_lines, 0);
}

static void test_host_store_malformed_lines_counted(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/bad", dir);
    char long_line[400];
    memset(long_line, 'x', sizeof long_line - 2);
    long_line[sizeof long_line - 2] = '\n';
    long_line[sizeof long_line - 1] = '\0';
    char text[600];
    snprintf(text, sizeof text, "# comment\n\nok=1\nno equals\n=empty key\nbad key=2\n%sz=9\r\n",
             long_line);
    write_file(path, text);
    host_store_t s;
    assert_int_equal(host_store_load(&s, path, err, sizeof err), 0);
    assert_int_equal(s.bad_lines, 4);
    assert_string_equal(host_store_get(&s, "ok"), "1");
    assert_string_equal(host_store_get(&s, "z"), "9"); /* CRLF taken */
}

static void test_host_store_refuses_bad_entries_and_full_table(void **state)
{
    (void)state;
    host_store_t s;
    memset(&s, 0, sizeof s);
    assert_int_equal(host_store_set(&s, "", "v"), -1);
    assert_int_equal(host_store_set(&s, "a b", "v"), -1);
    assert_int_equal(host_store_set(&s, "k", "two\nlines"), -1);
    for (unsigned i = 0; i < HOST_STORE_ENTRIES; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%u", i);
        assert_int_equal(host_store_set(&s, k, "v"), 0);
    }
    assert_int_equal(host_store_set(&s, "one_more", "v"), -1);
    assert_int_equal(host_store_set(&s, "k0", "w"), 0); /* existing keys still update */
}

static void test_gpio_host_status_file_and_changes(void **state)
{
    (void)state;
    char path[128], err[256], buf[256];
    snprintf(path, sizeof path, "%s/gpio", dir);
    gpio_host_t g;
    gpio_host_init(&g);
    assert_int_equal(gpio_host_set_status_file(&g, path, err, sizeof err), 0);
    assert_true(gpio_host_write(&g, PLAT_GPIO_RELAY_CHARGE, true));
    assert_false(gpio_host_write(&g, PLAT_GPIO_RELAY_CHARGE, true)); /* no change */
    assert_true(gpio_host_write(&g, PLAT_GPIO_LED_RED, false));     /* first write counts */
    assert_false(gpio_host_write(&g, PLAT_GPIO_BUTTON, true));      /* an input */
    assert_false(gpio_host_write(&g, (plat_gpio_t)99, true));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "relay_charge=1\n"));
    assert_non_null(strstr(buf, "led_red=0\n"));
    assert_null(strstr(buf, "button"));
}

static void test_gpio_host_button_from_file(void **state)
{
    (void)state;
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/button", dir);
    gpio_host_t g;
    gpio_host_init(&g);
    assert_false(gpio_host_read(&g, PLAT_GPIO_BUTTON)); /* absent */
    assert_int_equal(gpio_host_set_button(&g, "/nonexistent/button", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/button"));
    write_file(path, "0\n");
    assert_int_equal(gpio_host_set_button(&g, path, err, sizeof err), 0);
    assert_false(gpio_host_read(&g, PLAT_GPIO_BUTTON));
    write_file(path, "1\n");
    assert_true(gpio_host_read(&g, PLAT_GPIO_BUTTON));
    assert_false(gpio_host_read(&g, PLAT_GPIO_RELAY_ALARM));
    gpio_host_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_store_missing_file_is_empty),
        cmocka_unit_test(test_host_store_round_trip),
        cmocka_unit_test(test_host_store_malformed_lines_counted),
        cmocka_unit_test(test_host_store_refuses_bad_entries_and_full_table),
        cmocka_unit_test(test_gpio_host_status_file_and_changes),
        cmocka_unit_test(test_gpio_host_button_from_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
