/* SPDX-License-Identifier: MIT */
/* bms-gateway: the gateway firmware as a Linux daemon on real ports and
 * interfaces (USB-RS485 adapters, SocketCAN, SLCAN adapters, PTYs). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway.h"
#include "gw_config_text.h"
#include "host_clock.h"
#include "host_store.h"
#include "plat_linux.h"

#ifndef BMS_VERSION
#define BMS_VERSION "0.0.0"
#endif

#define CONFIG_MAX_BYTES 65536u
#define MAX_SETS 64
#define WAIT_CAP_MS 1000u
#define BUTTON_POLL_MS 100u

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* Everything the command line and the config file's device keys give. */
typedef struct opts {
    const char *config, *family, *bms_port, *victron_can, *bms_can;
    const char *log, *gpio_file, *button, *state;
    const char *sets[MAX_SETS];
    int nsets;
} opts_t;

static void print_usage(FILE *f)
{
    fprintf(f,
            "Usage: bms-gateway [OPTIONS]\n"
            "Runs the bmsbench gateway firmware on real devices: a BMS on a serial port (or a\n"
            "CANopen bus), the Victron GX on a CAN bus. Logs one line per state change.\n"
            "\n"
            "  --config FILE          `key = value` settings (gateway keys, profile keys, and\n"
            "                         the device keys bms_port, victron_can, bms_can, log,\n"
            "                         gpio_file, button, state); flags below override it\n"
            "  --family NAME          topband (default), tinybms, superb or balancer\n"
            "  --bms-port DEV[@BAUD]  the BMS serial line: /dev/ttyUSB0, usb:VID:PID[:SERIAL],\n"
            "                         desc:TEXT or a PTY; default baud by family (9600, 115200, 300)\n"
            "  --victron-can CAN      the GX side: IFACE[@BITRATE] (SocketCAN, e.g. can0@500000)\n"
            "                         or slcan:DEV[@BITRATE] (serial-line adapter, default 500000)\n"
            "  --bms-can CAN          the CANopen BMS bus (superb), as above (slcan default 250000)\n"
            "  --set KEY=VALUE        one setting, as in the config file (repeatable)\n"
            "  --log FILE             log here instead of stderr (appended)\n"
            "  --gpio-file FILE       rewrite FILE with led/relay states on each change\n"
            "  --button FILE          the button: a FIFO ('1' pressed, '0' released) or a file\n"
            "  --state FILE           the persistent store (key=value; boot count, last exit)\n"
            "  -h, --help             this text\n"
            "  -V, --version          print the version\n"
            "\n"
            "Exit status: 0 never (runs until stopped), 1 on a usage, config or device error,\n"
            "128+N after signal N (SIGINT, SIGTERM).\n"
            "\n"
            "Examples:\n"
            "  bms-gateway --bms-port usb:0403:6001 --victron-can can0@500000\n"
            "  bms-gateway --config /etc/bms-gateway.conf --victron-can slcan:/dev/ttyACM0\n"
            "  bms-gateway --family superb --bms-can can1@250000 --victron-can can0\n");
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "bms-gateway: %s%s\n", msg, arg);
    fprintf(stderr, "Try 'bms-gateway --help'.\n");
    return EXIT_FAILURE;
}

enum {
    OPT_CONFIG = 256, OPT_FAMILY, OPT_BMS_PORT, OPT_VICTRON_CAN, OPT_BMS_CAN, OPT_SET, OPT_LOG,
    OPT_GPIO_FILE, OPT_BUTTON, OPT_STATE,
};

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, OPT_CONFIG},
        {"family", required_argument, NULL, OPT_FAMILY},
        {"bms-port", required_argument, NULL, OPT_BMS_PORT},
        {"victron-can", required_argument, NULL, OPT_VICTRON_CAN},
        {"bms-can", required_argument, NULL, OPT_BMS_CAN},
        {"set", required_argument, NULL, OPT_SET},
        {"log", required_argument, NULL, OPT_LOG},
        {"gpio-file", required_argument, NULL, OPT_GPIO_FILE},
        {"button", required_argument, NULL, OPT_BUTTON},
        {"state", required_argument, NULL, OPT_STATE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG: o->config = optarg; break;
        case OPT_FAMILY: o->family = optarg; break;
        case OPT_BMS_PORT: o->bms_port = optarg; break;
        case OPT_VICTRON_CAN: o->victron_can = optarg; break;
        case OPT_BMS_CAN: o->bms_can = optarg; break;
        case OPT_LOG: o->log = optarg; break;
        case OPT_GPIO_FILE: o->gpio_file = optarg; break;
        case OPT_BUTTON: o->button = optarg; break;
        case OPT_STATE: o->state = optarg; break;
        case OPT_SET:
            if (o->nsets == MAX_SETS) {
                return usage_error("too many --set options", "");
            }
            o->sets[o->nsets++] = optarg;
            break;
        case 'h': print_usage(stdout); return EXIT_SUCCESS;
        case 'V': printf("bms-gateway %s\n", BMS_VERSION); return EXIT_SUCCESS;
        default:
            return usage_error("unknown option or missing value: ",
                               optind > 0 && optind <= argc ? argv[optind - 1] : "?");
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument: ", argv[optind]);
    }
    return -1;
}

/* ---- config file ---- */

static char config_text[CONFIG_MAX_BYTES + 1];

/* Device keys are the daemon's, not the firmware's: take their values and
 * blank the line, so the firmware parser's line:col stays right. */
static const char *const device_keys[] = {"bms_port", "victron_can", "bms_can", "log",
                                          "gpio_file", "button", "state"};
static char device_vals[sizeof device_keys / sizeof device_keys[0]][DEV_SPEC_TEXT_MAX];

static void take_device_keys(char *text, size_t len, opts_t *o)
{
    const char **dst[] = {&o->bms_port, &o->victron_can, &o->bms_can, &o->log,
                          &o->gpio_file, &o->button, &o->state};
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && text[end] != '\n') {
            end++;
        }
        size_t k = i;
        while (k < end && (text[k] == ' ' || text[k] == '\t')) {
            k++;
        }
        for (size_t d = 0; d < sizeof device_keys / sizeof device_keys[0]; d++) {
            size_t kn = strlen(device_keys[d]);
            size_t e = k + kn;
            if (end - k <= kn || strncmp(text + k, device_keys[d], kn) != 0) {
                continue;
            }
            while (e < end && (text[e] == ' ' || text[e] == '\t')) {
                e++;
            }
            if (e >= end || text[e] != '=') {
                continue;
            }
            e++;
            while (e < end && (text[e] == ' ' || text[e] == '\t')) {
                e++;
            }
            size_t v = e, ve = end;
            const char *hash = memchr(text + v, '#', end - v);
            if (hash != NULL) {
                ve = (size_t)(hash - text);
            }
            while (ve > v && (text[ve - 1] == ' ' || text[ve - 1] == '\t' || text[ve - 1] == '\r')) {
                ve--;
            }
            size_t vn = ve - v < DEV_SPEC_TEXT_MAX - 1 ? ve - v : DEV_SPEC_TEXT_MAX - 1;
            memcpy(device_vals[d], text + v, vn);
            device_vals[d][vn] = '\0';
            /* The command line wins over the file. */
            if (*dst[d] == NULL) {
                *dst[d] = device_vals[d];
            }
            memset(text + i, ' ', end - i);
            break;
        }
        i = end + 1;
    }
}

static int load_config(const char *path, gw_config_t *cfg, opts_t *o)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "bms-gateway: %s: cannot read the config file (%s)\n", path,
                strerror(errno));
        return -1;
    }
    size_t len = fread(config_text, 1, sizeof config_text, f);
    bool too_long = len > CONFIG_MAX_BYTES;
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || too_long) {
        fprintf(stderr, "bms-gateway: %s: %s\n", path,
                too_long ? "config file over 64 KiB" : "read error");
        return -1;
    }
    take_device_keys(config_text, len, o);
    gw_config_text_err_t err;
    if (gw_config_text_parse(config_text, len, cfg, &cfg->profile, &err) != 0) {
        fprintf(stderr, "bms-gateway: %s:%s\n", path, err.msg);
        return -1;
    }
    return 0;
}

static int apply_set(const char *set, gw_config_t *cfg)
{
    const char *eq = strchr(set, '=');
    char line[256];
    if (eq == NULL || eq == set || strlen(set) + 4 > sizeof line) {
        fprintf(stderr, "bms-gateway: --set %s: expected KEY=VALUE\n", set);
        return -1;
    }
    snprintf(line, sizeof line, "%.*s = %s\n", (int)(eq - set), set, eq + 1);
    gw_config_text_err_t err;
    if (gw_config_text_parse(line, strlen(line), cfg, &cfg->profile, &err) != 0) {
        /* Columns refer to "KEY = VALUE"; the message names the key, which is what counts. */
        fprintf(stderr, "bms-gateway: --set %s: %s\n", set, err.msg);
        return -1;
    }
    return 0;
}

static int family_of(const char *name, gw_bms_family_t *fam)
{
    static const char *const names[] = {"topband", "tinybms", "superb", "balancer"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i]) == 0) {
            *fam = (gw_bms_family_t)i;
            return 0;
        }
    }
    return -1;
}

static int build_config(opts_t *o, gw_config_t *cfg)
{
    gateway_config_default(cfg);
    if (o->config != NULL && load_config(o->config, cfg, o) != 0) {
        return -1;
    }
    if (o->family != NULL) {
        gw_bms_family_t fam;
        if (family_of(o->family, &fam) != 0) {
            fprintf(stderr, "bms-gateway: --family %s: expected topband, tinybms, superb or "
                            "balancer\n", o->family);
            return -1;
        }
        gateway_config_family(cfg, fam);
    }
    for (int i = 0; i < o->nsets; i++) {
        if (apply_set(o->sets[i], cfg) != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- devices ---- */

static uint32_t family_baud(gw_bms_family_t fam)
{
    switch (fam) {
    case GW_BMS_TINYBMS: return 115200;
    case GW_BMS_BALANCER: return 300;
    default: return 9600;
    }
}

static int bind_devices(plat_linux_t *p, const opts_t *o, const gw_config_t *cfg)
{
    char err[320];
    bool needs_port = cfg->family != GW_BMS_SUPERB;
    if (needs_port && o->bms_port == NULL) {
        fprintf(stderr, "bms-gateway: missing --bms-port (the BMS serial line)\n");
        return -1;
    }
    if (!needs_port && o->bms_can == NULL) {
        fprintf(stderr, "bms-gateway: missing --bms-can (the SuperB CANopen bus)\n");
        return -1;
    }
    if (o->victron_can == NULL) {
        fprintf(stderr, "bms-gateway: missing --victron-can (the CAN bus to the GX)\n");
        return -1;
    }
    if (needs_port) {
        serial_spec_t s;
        if (serial_spec_parse(o->bms_port, &s, err, sizeof err) != 0 ||
            plat_linux_add_uart(p, cfg->bms_uart, &s, family_baud(cfg->family), err, sizeof err) !=
                0) {
            fprintf(stderr, "bms-gateway: BMS port %s\n", err);
            return -1;
        }
    }
    can_spec_t c;
    if (can_spec_parse(o->victron_can, &c, err, sizeof err) != 0 ||
        plat_linux_add_can(p, cfg->victron_can, &c, 500000, err, sizeof err) != 0) {
        fprintf(stderr, "bms-gateway: Victron CAN %s\n", err);
        return -1;
    }
    if (!needs_port && (can_spec_parse(o->bms_can, &c, err, sizeof err) != 0 ||
                        plat_linux_add_can(p, cfg->bms_can, &c, 250000, err, sizeof err) != 0)) {
        fprintf(stderr, "bms-gateway: BMS CAN %s\n", err);
        return -1;
    }
    if (plat_linux_wait_ready(p, err, sizeof err) != 0) {
        fprintf(stderr, "bms-gateway: %s\n", err);
        return -1;
    }
    if ((o->gpio_file != NULL && gpio_host_set_status_file(&p->gpio, o->gpio_file, err, sizeof err) != 0) ||
        (o->button != NULL && gpio_host_set_button(&p->gpio, o->button, err, sizeof err) != 0)) {
        fprintf(stderr, "bms-gateway: %s\n", err);
        return -1;
    }
    return 0;
}

/* ---- the loop ---- */

static int run(plat_linux_t *p, gateway_t *gw, bool button)
{
    while (stop_signal == 0) {
        uint64_t now = host_clock_ms();
        uint64_t due = gateway_next_deadline(gw);
        uint64_t plat_due = plat_linux_deadline(p);
        due = plat_due < due ? plat_due : due;
        uint64_t wait = due <= now ? 0 : due - now;
        uint64_t cap = button ? BUTTON_POLL_MS : WAIT_CAP_MS;
        wait = wait < cap ? wait : cap;
        struct pollfd fds[PLAT_LINUX_MAX_FDS];
        size_t n = plat_linux_pollfds(p, fds, PLAT_LINUX_MAX_FDS);
        int r = poll(fds, n, (int)wait);
        if (r < 0 && errno != EINTR) {
            perror("bms-gateway: poll");
            return EXIT_FAILURE;
        }
        now = host_clock_ms();
        if (r > 0) {
            (void)plat_linux_service(p, fds, n, now);
        }
        plat_linux_tick(p, now);
        gateway_step(gw, now);
    }
    return 128 + stop_signal;
}

static void count_boot(host_store_t *st, bool *have)
{
    const char *b = host_store_get(st, "boots");
    char num[24];
    snprintf(num, sizeof num, "%lu", (b != NULL ? strtoul(b, NULL, 10) : 0ul) + 1ul);
    (void)host_store_set(st, "boots", num);
    *have = true;
}

static gateway_t gw;
static plat_linux_t plat;

int main(int argc, char **argv)
{
    opts_t o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) {
        return rc;
    }
    gw_config_t cfg;
    if (build_config(&o, &cfg) != 0) {
        return EXIT_FAILURE;
    }
    FILE *log = NULL;
    if (o.log != NULL && (log = fopen(o.log, "a")) == NULL) {
        fprintf(stderr, "bms-gateway: %s: cannot open the log file (%s)\n", o.log,
                strerror(errno));
        return EXIT_FAILURE;
    }
    host_store_t store;
    bool have_store = false;
    char err[320];
    if (o.state != NULL) {
        if (host_store_load(&store, o.state, err, sizeof err) != 0) {
            fprintf(stderr, "bms-gateway: %s\n", err);
            return EXIT_FAILURE;
        }
        count_boot(&store, &have_store);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    plat_linux_init(&plat, log);
    if (bind_devices(&plat, &o, &cfg) != 0) {
        plat_linux_close(&plat);
        return EXIT_FAILURE;
    }
    plat_linux_logf(&plat, "bms-gateway %s: family %s, BMS %s, Victron %s", BMS_VERSION,
                    cfg.ident.family[0] ? cfg.ident.family : "?",
                    cfg.family == GW_BMS_SUPERB ? o.bms_can : o.bms_port, o.victron_can);
    if (gateway_init(&gw, &cfg, &plat.api, host_clock_ms()) != 0) {
        fprintf(stderr, "bms-gateway: internal: gateway_init refused the platform\n");
        plat_linux_close(&plat);
        return EXIT_FAILURE;
    }
    rc = run(&plat, &gw, o.button != NULL);
    plat_linux_logf(&plat, "stopped by signal %d", rc > 128 ? rc - 128 : 0);
    plat_linux_close(&plat);
    if (have_store) {
        char why[32];
        snprintf(why, sizeof why, "signal %d", rc > 128 ? rc - 128 : 0);
        if (host_store_set(&store, "last_exit", why) != 0 ||
            host_store_save(&store, err, sizeof err) != 0) {
            fprintf(stderr, "bms-gateway: %s\n", err);
        }
    }
    if (log != NULL) {
        fclose(log);
    }
    return rc;
}
