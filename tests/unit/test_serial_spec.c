/* SPDX-License-Identifier: MIT */
/* Device spec parsing: serial paths, usb:VID:PID[:SERIAL], desc:TEXT,
 * @BAUD, CAN interfaces and slcan:DEV[@BITRATE], errors and boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "dev_spec.h"

static void test_serial_spec_golden(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        serial_spec_kind_t kind;
        const char *path;
        uint16_t vid, pid;
        const char *serial, *desc;
        uint32_t baud;
    } rows[] = {
        {"/dev/ttyUSB0", 0, SERIAL_SPEC_PATH, "/dev/ttyUSB0", 0, 0, "", "", 0},
        {"/dev/ttyUSB0@9600", 0, SERIAL_SPEC_PATH, "/dev/ttyUSB0", 0, 0, "", "", 9600},
        {"/dev/pts/3@115200", 0, SERIAL_SPEC_PATH, "/dev/pts/3", 0, 0, "", "", 115200},
        {"/dev/serial/by-id/usb-FTDI@x", 0, SERIAL_SPEC_PATH, "/dev/serial/by-id/usb-FTDI@x", 0, 0,
         "", "", 0},
        {"usb:0403:6001", 0, SERIAL_SPEC_USB, "", 0x0403, 0x6001, "", "", 0},
        {"usb:0403:6001:BENCH01", 0, SERIAL_SPEC_USB, "", 0x0403, 0x6001, "BENCH01", "", 0},
        {"usb:0403:6001:BENCH01@9600", 0, SERIAL_SPEC_USB, "", 0x0403, 0x6001, "BENCH01", "", 9600},
        {"usb:1a86:7523@300", 0, SERIAL_SPEC_USB, "", 0x1A86, 0x7523, "", "", 300},
        {"usb:FFFF:0", 0, SERIAL_SPEC_USB, "", 0xFFFF, 0, "", "", 0},
        {"usb:10000:6001", -1, 0, "", 0, 0, "", "", 0},   /* VID over 4 digits */
        {"usb:0403", -1, 0, "", 0, 0, "", "", 0},         /* no PID */
        {"usb:0403:", -1, 0, "", 0, 0, "", "", 0},
        {"usb::6001", -1, 0, "", 0, 0, "", "", 0},
        {"usb:04g3:6001", -1, 0, "", 0, 0, "", "", 0},
        {"usb:0403:6001:", -1, 0, "", 0, 0, "", "", 0},   /* empty serial */
        {"desc:FT232R USB UART", 0, SERIAL_SPEC_DESC, "", 0, 0, "", "FT232R USB UART", 0},
        {"desc:CP2102@19200", 0, SERIAL_SPEC_DESC, "", 0, 0, "", "CP2102", 19200},
        {"desc:", -1, 0, "", 0, 0, "", "", 0},
        {"", -1, 0, "", 0, 0, "", "", 0},
        {"/dev/ttyS0@", -1, 0, "", 0, 0, "", "", 0},      /* '@' and no rate */
        {"/dev/ttyS0@0", -1, 0, "", 0, 0, "", "", 0},
        {"/dev/ttyS0@999999999999", -1, 0, "", 0, 0, "", "", 0},
        {"@9600", -1, 0, "", 0, 0, "", "", 0},            /* a rate and no device */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        serial_spec_t s;
        char err[256] = "";
        int rc = serial_spec_parse(rows[i].text, &s, err, sizeof err);
        if (rc != rows[i].rc) {
            fail_msg("row %zu '%s': rc %d, want %d (%s)", i, rows[i].text, rc, rows[i].rc, err);
        }
        if (rc != 0) {
            if (err[0] == '\0') {
                fail_msg("row %zu '%s': no error message", i, rows[i].text);
            }
            continue;
        }
        if (s.kind != rows[i].kind || strcmp(s.path, rows[i].path) != 0 || s.vid != rows[i].vid ||
            s.pid != rows[i].pid || strcmp(s.serial, rows[i].serial) != 0 ||
            strcmp(s.desc, rows[i].desc) != 0 || s.baud != rows[i].baud) {
            fail_msg("row %zu '%s': kind %d path '%s' %04x:%04x serial '%s' desc '%s' baud %u", i,
                     rows[i].text, s.kind, s.path, s.vid, s.pid, s.serial, s.desc,
                     (unsigned)s.baud);
        }
    }
}

static void test_serial_spec_too_long_path_refused(void **state)
{
    (void)state;
    char text[DEV_SPEC_TEXT_MAX + 8];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    serial_spec_t s;
    char err[512];
    assert_int_equal(serial_spec_parse(text, &s, err, sizeof err), -1);
    text[DEV_SPEC_TEXT_MAX - 1] = '\0'; /* longest that fits */
    assert_int_equal(serial_spec_parse(text, &s, err, sizeof err), 0);
}

static void test_serial_spec_error_names_the_text(void **state)
{
    (void)state;
    serial_spec_t s;
    char err[256];
    assert_int_equal(serial_spec_parse("usb:0403", &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "usb:0403"));
    assert_non_null(strstr(err, "VID:PID"));
}

static void test_can_spec_golden(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        can_spec_kind_t kind;
        const char *ifname;
        const char *serial_path;
        uint16_t vid;
        uint32_t bitrate;
    } rows[] = {
        {"vcan0", 0, CAN_SPEC_SOCKETCAN, "vcan0", "", 0, 0},
        {"can0@500000", 0, CAN_SPEC_SOCKETCAN, "can0", "", 0, 500000},
        {"can1@250000", 0, CAN_SPEC_SOCKETCAN, "can1", "", 0, 250000},
        {"abcdefghijklmno", 0, CAN_SPEC_SOCKETCAN, "abcdefghijklmno", "", 0, 0}, /* 15 chars */
        {"abcdefghijklmnop", -1, 0, "", "", 0, 0},                                /* 16 chars */
        {"slcan:/dev/ttyACM0", 0, CAN_SPEC_SLCAN, "", "/dev/ttyACM0", 0, 0},
        {"slcan:/dev/pts/4@500000", 0, CAN_SPEC_SLCAN, "", "/dev/pts/4", 0, 500000},
        {"slcan:usb:16d0:117e@250000", 0, CAN_SPEC_SLCAN, "", "", 0x16D0, 250000},
        {"slcan:", -1, 0, "", "", 0, 0},
        {"slcan:@500000", -1, 0, "", "", 0, 0},
        {"slcan:usb:16d0@500000", -1, 0, "", "", 0, 0},
        {"/dev/ttyUSB0", -1, 0, "", "", 0, 0}, /* a path is not an interface */
        {"can0@", -1, 0, "", "", 0, 0},
        {"", -1, 0, "", "", 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        can_spec_t c;
        char err[256] = "";
        int rc = can_spec_parse(rows[i].text, &c, err, sizeof err);
        if (rc != rows[i].rc) {
            fail_msg("row %zu '%s': rc %d, want %d (%s)", i, rows[i].text, rc, rows[i].rc, err);
        }
        if (rc != 0) {
            continue;
        }
        if (c.kind != rows[i].kind || strcmp(c.ifname, rows[i].ifname) != 0 ||
            strcmp(c.serial.path, rows[i].serial_path) != 0 || c.serial.vid != rows[i].vid ||
            c.bitrate != rows[i].bitrate || c.serial.baud != 0) {
            fail_msg("row %zu '%s': kind %d if '%s' path '%s' vid %04x bitrate %u", i,
                     rows[i].text, c.kind, c.ifname, c.serial.path, c.serial.vid,
                     (unsigned)c.bitrate);
        }
    }
}

static void test_spec_format_round_trip(void **state)
{
    (void)state;
    static const char *const serial_rows[] = {"/dev/ttyUSB0", "usb:0403:6001",
                                              "usb:0403:6001:BENCH01", "desc:FT232R"};
    for (size_t i = 0; i < sizeof serial_rows / sizeof serial_rows[0]; i++) {
        serial_spec_t s;
        char err[128], out[256];
        assert_int_equal(serial_spec_parse(serial_rows[i], &s, err, sizeof err), 0);
        serial_spec_format(&s, out, sizeof out);
        if (strcmp(out, serial_rows[i]) != 0) {
            fail_msg("row %zu: '%s' formats as '%s'", i, serial_rows[i], out);
        }
    }
    can_spec_t c;
    char err[128], out[256];
    assert_int_equal(can_spec_parse("slcan:usb:0403:6001:X@500000", &c, err, sizeof err), 0);
    can_spec_format(&c, out, sizeof out);
    assert_string_equal(out, "slcan:usb:0403:6001:X");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serial_spec_golden),
        cmocka_unit_test(test_serial_spec_too_long_path_refused),
        cmocka_unit_test(test_serial_spec_error_names_the_text),
        cmocka_unit_test(test_can_spec_golden),
        cmocka_unit_test(test_spec_format_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
