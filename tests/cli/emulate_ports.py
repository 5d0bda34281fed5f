#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# `bmsbench emulate FAMILY --port/--can` on PTY pairs: each family answers a
# golden request on a real fd, a missing or busy device exits 2 naming it,
# SIGINT exits 130. The script plays the bus master (and, for superb, the
# SLCAN adapter the emulator talks to).
# usage: emulate_ports.py BMSBENCH
import os
import select
import signal
import subprocess
import sys
import time
import tty

BENCH = sys.argv[1]
FAILS = []


def fail(name, msg):
    FAILS.append(name)
    print(f"FAIL {name}: {msg}")


def ok(name):
    print(f"ok   {name}")


def pty_pair():
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


def start(args):
    return subprocess.Popen([BENCH, "emulate"] + args, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def wait_serving(proc, name, timeout_s=5.0):
    """Block until the emulator says it is serving (its port is open)."""
    deadline = time.monotonic() + timeout_s
    buf = b""
    fd = proc.stderr.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            if b"serving on" in buf:
                return True
    fail(name, f"emulator never said 'serving on' (stderr: {buf!r}, rc {proc.poll()})")
    return False


def read_until(fd, end, timeout_s):
    """Read from fd until the bytes end with `end` or the time runs out."""
    deadline = time.monotonic() + timeout_s
    buf = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            buf += os.read(fd, 4096)
            if end is not None and end in buf:
                return buf
        elif end is None and buf:
            return buf
    return buf


def stop(proc, name, want_rc=130):
    """SIGINT must end the emulator with 130, within a second."""
    proc.send_signal(signal.SIGINT)
    try:
        rc = proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        fail(name + "_sigint", "still running 2 s after SIGINT")
        return
    if rc != want_rc:
        fail(name + "_sigint", f"exit {rc}, want {want_rc}; stderr {proc.stderr.read()!r}")
    else:
        ok(name + "_sigint")


def check_serial(name, args, request, want, char_gap_s=0.0, end=b"\r"):
    master, slave, path = pty_pair()
    proc = start(args + ["--port", path])
    if not wait_serving(proc, name):
        proc.kill()
        proc.wait()
        return
    os.close(slave)  # the emulator holds its own end now
    t0 = time.monotonic()
    if char_gap_s > 0:  # a slow bus: one character at a time
        for b in request:
            os.write(master, bytes([b]))
            time.sleep(char_gap_s)
    else:
        os.write(master, request)
    got = read_until(master, end, 3.0)
    dt = time.monotonic() - t0
    if got != want:
        fail(name, f"reply {got.hex()} ({got!r}), want {want.hex()} ({want!r})")
    else:
        ok(f"{name} ({dt * 1000:.0f} ms)")
    stop(proc, name)
    os.close(master)


def check_superb():
    name = "superb_slcan"
    master, slave, path = pty_pair()
    proc = start(["superb", "--can", f"slcan:{path}", "--nodes", "1"])
    if not wait_serving(proc, name):
        proc.kill()
        proc.wait()
        return
    os.close(slave)
    # The emulator is the SLCAN host: it closes, sets 250 kbit/s (S5), opens.
    seen = read_until(master, b"O\r", 2.0)
    setup = seen[:seen.find(b"O\r") + 2]
    if not setup.endswith(b"C\rS5\rO\r"):
        fail(name + "_setup", f"SLCAN set-up {setup!r}, want ...C\\rS5\\rO\\r")
    else:
        ok(name + "_setup")
    os.write(master, b"\r\r\r")  # the adapter acknowledges C, S5, O
    # Boot-up first (0x701 00), then the identity object's vendor id.
    boot = seen + read_until(master, b"t701100\r", 2.0)
    if b"t701100\r" not in boot:
        fail(name + "_bootup", f"no boot-up frame t701100 in {boot!r}")
    else:
        ok(name + "_bootup")
    os.write(master, b"t60184018100100000000\r")
    want = b"t5818431810017C030000\r"
    got = read_until(master, want, 2.0)
    if want not in got:
        fail(name, f"SDO reply missing: got {got!r}, want {want!r}")
    else:
        ok(name)
    stop(proc, name)
    os.close(master)


def check_missing():
    cases = [
        ("topband_missing", ["topband", "--port", "/dev/bmsbench-no-such-port"],
         "/dev/bmsbench-no-such-port"),
        ("tinybms_missing", ["tinybms", "--port", "/dev/bmsbench-no-such-port"],
         "/dev/bmsbench-no-such-port"),
        ("balancer_missing", ["balancer", "--port", "/dev/bmsbench-no-such-port"],
         "/dev/bmsbench-no-such-port"),
        ("superb_missing", ["superb", "--can", "slcan:/dev/bmsbench-no-such-can"],
         "/dev/bmsbench-no-such-can"),
        ("superb_missing_iface", ["superb", "--can", "bmsbenchcan9"], "bmsbenchcan9"),
    ]
    for name, args, needle in cases:
        p = subprocess.run([BENCH, "emulate"] + args, capture_output=True, timeout=10)
        err = p.stderr.decode(errors="replace")
        if p.returncode != 2 or needle not in err:
            fail(name, f"exit {p.returncode} (want 2), stderr lacks {needle!r}: {err!r}")
        else:
            ok(name)


def check_busy():
    name = "topband_busy"
    master, slave, path = pty_pair()
    first = start(["topband", "--port", path])
    if not wait_serving(first, name):
        first.kill()
        first.wait()
        return
    p = subprocess.run([BENCH, "emulate", "topband", "--port", path], capture_output=True,
                       timeout=10)
    err = p.stderr.decode(errors="replace")
    if p.returncode != 2 or path not in err:
        fail(name, f"second emulator on {path}: exit {p.returncode} (want 2): {err!r}")
    else:
        ok(name)
    stop(first, name)
    os.close(slave)
    os.close(master)


# Topband: pack 1 of 2 answers the analog-values request (golden from --stdio).
check_serial("topband_port", ["topband", "--packs", "2"], b"~21014642E00201FD34\r",
             b"~21014600808001100CE40CE40CE50CE50CE50CE40CE60CE20CE60CE20CE60CE20CE3"
             b"0CE60CE20CE4070BA50BA50BA50BA50BAF0BA50BA5000014A0138F042710000032640"
             b"000E159\r")
# TinyBMS: AA 1B -> the three temperatures, 25.0 degC each, with the CRC.
check_serial("tinybms_port", ["tinybms"], bytes.fromhex("aa1b3f1b"),
             bytes.fromhex("aa1b06fa00fa00fa00ccca"), end=bytes.fromhex("ccca"))
# Balancer: module 01's cell voltage, one character per 300 Bd character time.
check_serial("balancer_port", ["balancer"], b"0105", b"3299\r\n", char_gap_s=0.034, end=b"\n")
check_superb()
check_missing()
check_busy()
sys.exit(1 if FAILS else 0)
