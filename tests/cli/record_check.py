# SPDX-License-Identifier: MIT
"""Interop checks of one recording folder with tools nobody here wrote.

python-can reads the candump -L log and the Vector ASC file and must see the
same frames; can-utils' log2asc converts the log and python-can reads that back
the same; tshark dissects the pcap (as CANopen for the BMS bus) frame by frame.
Direction in the ASC file is checked against who sends which id.

usage: record_check.py DIR BUS IFNAME [--sdo] [--serial topband]
  BUS     victron | bms (files DIR/BUS.log, .asc, .pcap)
  IFNAME  the interface name the log must carry (can0 / can1)
Exit 0 when every check passed, 1 with one line per failure otherwise.
"""
import os
import re
import subprocess
import sys
import tempfile

EPOCH_S = 1700000000          # docs/recordings.md: sim t = 0 in logs and pcaps
TOL_S = 1e-6

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def need(ok, msg):
    if not ok:
        fail(msg)
    return ok


def key(m):
    return (m.arbitration_id, m.is_extended_id, m.dlc, bytes(m.data))


def compare(name_a, a, name_b, b, offset_s):
    """Every frame of a equals b's at the same position; b's time + offset_s = a's."""
    if not need(len(a) == len(b), f"{name_a} has {len(a)} frames, {name_b} {len(b)}"):
        return
    bad = 0
    for i, (x, y) in enumerate(zip(a, b)):
        if key(x) != key(y) or abs(x.timestamp - (y.timestamp + offset_s)) > TOL_S:
            bad += 1
            if bad <= 5:
                fail(f"frame {i}: {name_a} {key(x)} @{x.timestamp:.6f} vs "
                     f"{name_b} {key(y)} @{y.timestamp + offset_s:.6f}")
    need(bad == 0, f"{bad} of {len(a)} frames differ between {name_a} and {name_b}")


def gateway_sends(bus, can_id):
    """Who sends what (DESIGN.md): the gateway writes the Victron frame set and
    receives only the GX's 0x305-0x307; on CANopen it is the SDO client and the
    NMT master, the batteries answer SDOs and send heartbeats/EMCY/PDOs."""
    if bus == "victron":
        return can_id not in (0x305, 0x306, 0x307)
    return can_id == 0x000 or 0x600 < can_id < 0x680


def check_direction(bus, asc_msgs):
    bad = [m for m in asc_msgs if m.is_rx == gateway_sends(bus, m.arbitration_id)]
    need(not bad, f"{len(bad)} ASC frames with the wrong Rx/Tx, first: "
                  f"{bad[0] if bad else ''}")
    need(any(not m.is_rx for m in asc_msgs), "no Tx frame in the ASC file")


def sdo_index(can_id, data):
    """Independent SDO decode (CiA 301): the multiplexer of initiate/abort frames."""
    if len(data) < 4:
        return None
    cmd = data[0] >> 5
    if 0x600 < can_id < 0x680 and cmd in (1, 2, 4):      # download/upload initiate, abort
        return data[1] | data[2] << 8
    if 0x580 < can_id < 0x600 and cmd in (2, 3, 4):      # upload/download initiate resp, abort
        return data[1] | data[2] << 8
    return None


def check_tshark(pcap, log_msgs, sdo):
    args = ["tshark", "-r", pcap, "-T", "fields", "-e", "can.id", "-e", "can.len"]
    if sdo:
        args[3:3] = ["-d", "can.subdissector,canopen"]
        args += ["-e", "canopen.sdo.main_idx"]
    p = subprocess.run(args, capture_output=True, text=True)
    if not need(p.returncode == 0, f"tshark failed ({p.returncode}): {p.stderr.strip()}"):
        return
    rows = [line.split("\t") for line in p.stdout.splitlines()]
    if not need(len(rows) == len(log_msgs),
                f"tshark sees {len(rows)} frames in {pcap}, the log has {len(log_msgs)}"):
        return
    bad = 0
    seen = set()
    for i, (row, m) in enumerate(zip(rows, log_msgs)):
        want = [str(m.arbitration_id), str(m.dlc)]
        if sdo:
            idx = sdo_index(m.arbitration_id, bytes(m.data))
            want.append("" if idx is None else f"0x{idx:04x}")
            if len(row) > 2 and row[2]:
                seen.add(int(row[2], 16))
        if row[:len(want)] != want:
            bad += 1
            if bad <= 5:
                fail(f"pcap frame {i}: tshark {row}, log {want}")
    need(bad == 0, f"{bad} pcap frames dissected unlike the log")
    if sdo:
        print("tshark SDO indices: " + " ".join(f"0x{x:04X}" for x in sorted(seen)))
        # The SuperB driver's cyclic reads (firmware/core/superb): the
        # operating mode 0x6060 and the measurement objects it polls.
        for idx in (0x1000, 0x6060, 0x6081, 0x6010, 0x2010, 0x2011):
            need(idx in seen, f"tshark shows no SDO for index 0x{idx:04X}")


SERIAL_LINE = re.compile(r"^(\d+)\.(\d{6}) (tx|rx)(\+?)((?: [0-9A-F]{2})+)$")


def check_serial(path, family):
    with open(path, encoding="ascii") as f:
        lines = f.read().splitlines()
    need(lines and lines[0].startswith("# bmsbench serial capture v1"),
         f"{path}: no format comment on line 1")
    frames = {"tx": 0, "rx": 0}
    last_us = -1
    for n, line in enumerate(lines[1:], start=2):
        if line.startswith("#"):
            continue
        m = SERIAL_LINE.match(line)
        if not need(m, f"{path}:{n}: not in the capture grammar: {line[:60]}"):
            return
        t_us = int(m.group(1)) * 1000000 + int(m.group(2))
        need(t_us >= last_us, f"{path}:{n}: time goes backwards")
        last_us = t_us
        data = bytes.fromhex(m.group(5))
        need(len(data) <= 256, f"{path}:{n}: {len(data)} bytes on one line")
        frames[m.group(3)] += 1
        if family == "topband" and not m.group(4):
            # Topband ASCII frames: '~' ... CR, one per line.
            need(data[0] == 0x7E and data[-1] == 0x0D,
                 f"{path}:{n}: a Topband frame not '~'...CR: {line[:60]}")
    need(frames["tx"] > 0 and frames["rx"] > 0, f"{path}: frames per direction {frames}")


def check_signals(path):
    with open(path, encoding="ascii") as f:
        lines = f.read().splitlines()
    header = lines[0].split(",")
    for col in ("t", "cvl_v", "ccl_a", "dcl_a", "soc_pct", "voltage_v", "current_a",
                "bank_voltage_v", "bank_current_a", "cell_max_v", "cell_min_v",
                "cell_temp_min_c", "cell_temp_max_c", "modules_online", "charger_active",
                "alarm_high_voltage", "warning_high_voltage"):
        need(col in header, f"{path}: no column {col}")
    need(len(lines) > 10, f"{path}: only {len(lines)} lines")
    last_t = -1.0
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        if not need(len(cells) == len(header), f"{path}:{n}: {len(cells)} fields"):
            return
        t = float(cells[0])
        need(t > last_t, f"{path}:{n}: t does not increase")
        last_t = t
        for c in cells[1:]:
            if c:
                float(c)


def main():
    argv = sys.argv[1:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 1
    folder, bus, ifname = argv[:3]
    sdo = "--sdo" in argv
    serial = argv[argv.index("--serial") + 1] if "--serial" in argv else None
    try:
        import can
    except ImportError:
        print("FAIL: python3 cannot import can: install python3-can (sh ci/install-deps.sh)",
              file=sys.stderr)
        return 1
    base = os.path.join(folder, bus)
    log_msgs = list(can.CanutilsLogReader(base + ".log"))
    asc_msgs = list(can.ASCReader(base + ".asc"))
    need(len(log_msgs) > 100, f"{base}.log: only {len(log_msgs)} frames")
    need(all(m.channel == ifname for m in log_msgs), f"{base}.log: interface is not {ifname}")
    need(all(m.channel == 0 for m in asc_msgs), f"{base}.asc: channel is not 1")
    compare(base + ".log", log_msgs, base + ".asc", asc_msgs, EPOCH_S)
    check_direction(bus, asc_msgs)
    print(f"{base}: {len(log_msgs)} frames, log and asc identical")

    with tempfile.TemporaryDirectory() as tmp:
        x = os.path.join(tmp, "x.asc")
        p = subprocess.run(["log2asc", "-I", base + ".log", "-O", x, ifname],
                           capture_output=True, text=True)
        if need(p.returncode == 0, f"log2asc failed ({p.returncode}): {p.stderr.strip()}"):
            # log2asc writes times relative to the first frame of the log.
            x_msgs = list(can.ASCReader(x))
            first = log_msgs[0].timestamp if log_msgs else 0.0
            compare(base + ".log", log_msgs, "log2asc " + x, x_msgs, first)
            print(f"{base}: log2asc output reads back with the same frames")

    check_tshark(base + ".pcap", log_msgs, sdo)
    if serial:
        check_serial(os.path.join(folder, "bms-serial.txt"), serial)
    check_signals(os.path.join(folder, "signals.csv"))
    if failures:
        print(f"{len(failures)} check(s) failed in {folder}", file=sys.stderr)
        return 1
    print(f"{folder} {bus}: all interop checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
