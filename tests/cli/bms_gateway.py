#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end test of bms-gateway on this host, over PTY pairs (no CAN in the
kernel here, so the Victron side is an SLCAN adapter played by this script).

BMS line:  bms-gateway --bms-port /dev/pts/A  <->  `bmsbench emulate topband --stdio`
Victron:   bms-gateway --victron-can slcan:/dev/pts/B  <->  this script, answering
           the Lawicel set-up (C, S6, O) and reading the t351 frames.
Also: missing device, busy (flock-ed) device, bad config line:col, SocketCAN
missing, adapter refusing the bitrate, BMS adapter unplugged mid-run, usage.

Usage: bms_gateway.py BMS_GATEWAY BMSBENCH
"""
import fcntl
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

GW, BENCH = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def pty_pair():
    """A PTY pair: (master fd, slave path). The slave fd is closed here: the
    pair lives as long as the master is open."""
    m, s = os.openpty()
    name = os.ttyname(s)
    os.close(s)
    return m, name


def run_quick(args, timeout=10):
    p = subprocess.run([GW] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


class Adapter:
    """The far end of an SLCAN line: answers set-up commands, collects frames."""

    def __init__(self, fd, refuse_bitrate=False):
        self.fd, self.refuse = fd, refuse_bitrate
        self.buf, self.cmds, self.frames = b"", [], []

    def pump(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return
        try:
            self.buf += os.read(self.fd, 4096)
        except OSError:
            return
        while b"\r" in self.buf:
            line, self.buf = self.buf.split(b"\r", 1)
            text = line.decode("ascii", "replace")
            if text[:1] in ("t", "T"):
                self.frames.append(text)
                os.write(self.fd, b"z\r" if text[0] == "t" else b"Z\r")
            else:
                self.cmds.append(text)
                bell = self.refuse and text.startswith("S")
                os.write(self.fd, b"\a" if bell else b"\r")


def decode_351(text):
    """(cvl_dv, ccl_da, dcl_da) from 't3518' + 16 hex digits."""
    d = bytes.fromhex(text[5:21])
    s16 = lambda lo: int.from_bytes(d[lo:lo + 2], "little", signed=True)
    return int.from_bytes(d[0:2], "little"), s16(2), s16(4)


def start_gateway(args, log):
    return subprocess.Popen([GW] + args + ["--log", log], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def test_end_to_end(tmp):
    # The BMS port is a symlink to the PTY, so a new PTY can "come back" at
    # the same path after the unplug, as a USB adapter does.
    bms_m, bms_pts = pty_pair()
    bms_s = os.path.join(tmp, "ttyBMS")
    os.symlink(bms_pts, bms_s)
    can_m, can_s = pty_pair()
    emu = subprocess.Popen([BENCH, "emulate", "topband", "--stdio", "--packs", "1"],
                           stdin=bms_m, stdout=bms_m, stderr=subprocess.DEVNULL)
    log = os.path.join(tmp, "gw.log")
    gpio = os.path.join(tmp, "gpio.txt")
    gw = start_gateway(["--bms-port", bms_s, "--victron-can", "slcan:" + can_s,
                        "--gpio-file", gpio, "--state", os.path.join(tmp, "state")], log)
    ad = Adapter(can_m)
    sane, last = None, None
    deadline = time.time() + 30
    while time.time() < deadline and gw.poll() is None:
        ad.pump(0.2)
        for f in ad.frames:
            if f.startswith("t3518"):
                last = decode_351(f)
                cvl, ccl, dcl = last
                if 400 <= cvl <= 600 and 0 < ccl <= 10000 and 0 < dcl <= 10000:
                    sane = last
        if sane:
            break
    check(ad.cmds[:3] == ["C", "S6", "O"], "SLCAN set-up C, S6, O (got %s)" % ad.cmds[:3])
    check(any(f.startswith("t3518") for f in ad.frames), "a 0x351 frame reached the SLCAN line")
    check(sane is not None, "0x351 with sane CVL/CCL/DCL once the pack is read (last %s)" % (last,))

    # Unplug the BMS adapter: the gateway reports it and keeps running.
    os.close(bms_m)
    emu.kill()
    emu.wait()
    t_end = time.time() + 5
    text = ""
    while time.time() < t_end:
        ad.pump(0.2)
        text = open(log).read()
        if "device lost" in text:
            break
    check("device lost" in text and bms_s in text, "unplugged BMS line reported, naming " + bms_s)
    check(gw.poll() is None, "gateway still running after the unplug")

    # Plug it back in: the gateway reopens the line and reads the pack again.
    bms_m, bms_pts = pty_pair()
    os.symlink(bms_pts, bms_s + ".new")
    os.rename(bms_s + ".new", bms_s)
    emu = subprocess.Popen([BENCH, "emulate", "topband", "--stdio", "--packs", "1"],
                           stdin=bms_m, stdout=bms_m, stderr=subprocess.DEVNULL)
    t_end = time.time() + 10
    while time.time() < t_end:
        ad.pump(0.2)
        text = open(log).read()
        if "ttyBMS: reopened" in text:
            break
    check("ttyBMS: reopened" in text and gw.poll() is None,
          "BMS line reopened when it came back")
    emu.kill()
    emu.wait()
    os.close(bms_m)
    rc = stop(gw)
    check(rc == 128 + signal.SIGTERM, "SIGTERM exits 143 (got %s)" % rc)
    text = open(log).read()
    check("SLCAN open at 500000" in text, "log names the SLCAN bitrate")
    check(os.path.exists(gpio), "GPIO status file written")
    state = open(os.path.join(tmp, "state")).read()
    check("boots=1" in state and "last_exit=signal 15" in state, "store saved: " + state.strip().replace("\n", " "))
    print("---- gateway log\n" + text + "----")
    os.close(can_m)


def test_missing_device(tmp):
    rc, out = run_quick(["--bms-port", "/dev/bmsbench-missing", "--victron-can", "vcan0"])
    check(rc == 1 and "/dev/bmsbench-missing" in out and "no such device" in out,
          "missing BMS port: exit 1 naming it (%d: %s)" % (rc, out.strip()))
    m, s = pty_pair()
    rc, out = run_quick(["--bms-port", s, "--victron-can", "slcan:/dev/bmsbench-nocan"])
    check(rc == 1 and "/dev/bmsbench-nocan" in out,
          "missing SLCAN adapter: exit 1 naming it (%s)" % out.strip())
    rc, out = run_quick(["--bms-port", s, "--victron-can", "slcan:usb:0403:6001:NOSUCH"])
    check(rc == 1 and "usb:0403:6001:NOSUCH" in out,
          "missing USB adapter: exit 1 naming it (%s)" % out.strip())
    rc, out = run_quick(["--bms-port", s, "--victron-can", "vcan0"])
    check(rc == 1 and "vcan0" in out, "SocketCAN interface unavailable: exit 1 naming it (%s)"
          % out.strip())
    os.close(m)


def test_busy_device(tmp):
    m, s = pty_pair()
    holder = os.open(s, os.O_RDWR | os.O_NOCTTY)
    fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    rc, out = run_quick(["--bms-port", s, "--victron-can", "vcan0"])
    check(rc == 1 and s in out and "busy" in out, "locked BMS port: exit 1, busy, naming it (%s)"
          % out.strip())
    os.close(holder)
    os.close(m)


def test_adapter_refuses_bitrate(tmp):
    bms_m, bms_s = pty_pair()
    can_m, can_s = pty_pair()
    gw = start_gateway(["--bms-port", bms_s, "--victron-can", "slcan:%s@250000" % can_s],
                       os.path.join(tmp, "refuse.log"))
    ad = Adapter(can_m, refuse_bitrate=True)
    t_end = time.time() + 8
    while time.time() < t_end and gw.poll() is None:
        ad.pump(0.1)
    rc = stop(gw)
    out = gw.stdout.read()
    check(rc == 1 and "refused bitrate S5" in out and can_s in out,
          "adapter refusing S5: exit 1, naming the adapter (%s: %s)" % (rc, out.strip()))
    os.close(bms_m)
    os.close(can_m)


def test_silent_adapter(tmp):
    bms_m, bms_s = pty_pair()
    can_m, can_s = pty_pair()
    rc, out = run_quick(["--bms-port", bms_s, "--victron-can", "slcan:" + can_s])
    check(rc == 1 and "no answer" in out and can_s in out,
          "silent SLCAN adapter: exit 1, naming it (%s)" % out.strip())
    os.close(bms_m)
    os.close(can_m)


def test_bad_config(tmp):
    path = os.path.join(tmp, "bad.conf")
    with open(path, "w") as f:
        f.write("# gateway\nbms_port = /dev/ttyUSB0\ncell_max_mv = 7000\n")
    rc, out = run_quick(["--config", path])
    want = path + ":3:15: cell_max_mv: expected 2000..5000, got 7000"
    check(rc == 1 and want in out, "bad config: exit 1 with file:line:col (%s)" % out.strip())
    rc, out = run_quick(["--set", "can_period_ms=5", "--bms-port", "/dev/null",
                         "--victron-can", "vcan0"])
    check(rc == 1 and "can_period_ms" in out and "--set" in out,
          "bad --set: exit 1 naming the key (%s)" % out.strip())
    rc, out = run_quick(["--config", os.path.join(tmp, "nope.conf")])
    check(rc == 1 and "nope.conf" in out, "missing config file named (%s)" % out.strip())


def test_usage(tmp):
    rc, out = run_quick(["--help"])
    check(rc == 0 and "--victron-can" in out and "Examples" in out, "--help exits 0 with usage")
    rc, out = run_quick(["--no-such-flag"])
    check(rc == 1 and "--no-such-flag" in out, "unknown option exits 1 naming it")
    rc, out = run_quick(["--bms-port", "/dev/null"])
    check(rc == 1 and "--victron-can" in out, "missing --victron-can exits 1")
    rc, out = run_quick(["--family", "lead-acid", "--bms-port", "x", "--victron-can", "vcan0"])
    check(rc == 1 and "lead-acid" in out, "bad --family exits 1 naming it")
    rc, out = run_quick(["--version"])
    check(rc == 0 and out.startswith("bms-gateway "), "--version")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for t in (test_usage, test_bad_config, test_missing_device, test_busy_device,
                  test_silent_adapter, test_adapter_refuses_bitrate, test_end_to_end):
            print("--", t.__name__)
            t(tmp)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
