"""``bpfc.scapy``: scapy with bpfc's filters, on a machine without libpcap and tcpdump.

The machine-without case runs scapy in a child process whose ``PATH`` has no tcpdump and
whose ``ctypes.util.find_library("pcap")`` finds nothing (so scapy's
``scapy.libs.winpcapy`` cannot load libpcap, as on Alpine): live, scapy sniffs on one
end of a veth pair in a network namespace while the child sends matching and
non-matching frames from the other end, and must receive exactly the matching ones;
offline, ``sniff(offline=..., filter=...)`` over the upstream capture files must return
the packets ``tcpdump -r FILE -w - FILTER`` selects (tcpdump on libpcap master where it
is built: bpfc's meaning).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.strategies import compositions

pytest.importorskip("scapy", reason="scapy is not installed (pip install scapy)")

import scapy.arch.common  # noqa: E402
import scapy.sendrecv  # noqa: E402
import scapy.utils  # noqa: E402
from scapy.error import Scapy_Exception  # noqa: E402

import bpfc  # noqa: E402
import bpfc.scapy as bscapy  # noqa: E402
from bpfc.capture.reader import read_packets  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PCAPS = Path(os.environ.get("BPFC_UPSTREAM", ROOT.parent / "shared" / "corpus-upstream")) / "pcaps"

# the child's view: libpcap unloadable for scapy, no tcpdump on PATH
NO_LIBPCAP = """
import ctypes.util, sys
_find = ctypes.util.find_library
ctypes.util.find_library = lambda name: None if name == "pcap" else _find(name)
"""


@pytest.fixture(autouse=True)
def _uninstalled() -> Iterator[None]:
    yield
    bscapy.uninstall()


def _holders() -> dict[tuple[str, str], object]:
    names = ("compile_filter", "free_filter", "tcpdump", "attach_filter")
    return {
        (module_name, name): getattr(module, name)
        for module_name, module in list(sys.modules.items())
        if module is not None and module_name.split(".")[0] == "scapy"
        for name in names
        if hasattr(module, name)
    }


def test_uninstall_restores_every_attribute_identically() -> None:
    before = _holders()
    bscapy.install("always")
    during = _holders()
    replaced = {key for key in before if during[key] is not before[key]}
    assert ("scapy.arch.common", "compile_filter") in replaced
    assert ("scapy.utils", "tcpdump") in replaced and ("scapy.sendrecv", "tcpdump") in replaced
    bscapy.install("fallback")  # again: changes the mode, still restorable
    assert bscapy.installed() == "fallback"
    bscapy.uninstall()
    after = _holders()
    assert after.keys() == before.keys()
    assert all(after[key] is before[key] for key in before)
    assert bscapy.installed() is None
    bscapy.uninstall()  # a second uninstall changes nothing


def test_a_replacement_kept_past_uninstall_is_scapys_own_again() -> None:
    bscapy.install("always")
    kept_compile, kept_tcpdump = scapy.arch.common.compile_filter, scapy.utils.tcpdump
    assert getattr(kept_compile("tcp", linktype=1), "_bpfc_array", None) is not None
    bscapy.uninstall()
    from bpfc import libpcap

    if libpcap.available():  # scapy's own compile_filter: libpcap's program
        assert getattr(kept_compile("tcp", linktype=1), "_bpfc_array", None) is None
    else:
        with pytest.raises(ImportError, match="libpcap is not available"):
            kept_compile("tcp", linktype=1)
    assert kept_tcpdump is not scapy.utils.tcpdump


def test_bad_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="fallback, always"):
        bscapy.install("sometimes")
    assert bscapy.installed() is None


def _insns(bp: object) -> list[tuple[int, int, int, int]]:
    return [
        (i.code, i.jt, i.jf, i.k & 0xFFFFFFFF)
        for i in (bp.bf_insns[n] for n in range(bp.bf_len))  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize(
    ("expr", "linktype"), [("tcp port 80", 1), ("ip", 101), ("udp", 113), ("ip6", 12)]
)
def test_compile_filter_is_pcap_open_dead_with_scapys_mtu(expr: str, linktype: int) -> None:
    bscapy.install("always")
    bp = scapy.arch.common.compile_filter(expr, linktype=linktype)
    dlt = 12 if linktype == 101 else linktype
    assert _insns(bp) == list(map(tuple, bpfc.compile(expr, dlt, 0xFFFF, netmask=None)))
    scapy.arch.common.free_filter(bp)  # ours: no pcap_freecode on Python memory
    assert bp.bf_len == 0 and not bp.bf_insns


PRIMITIVES = ["ip", "tcp port 80", "udp", "vlan", "ip broadcast", "arp", "ether[0] & 1 != 0"]
PRIMITIVES += ["ip6 and tcp", "icmp[icmptype] = icmp-echo", "len > 64", "mpls 3", "inbound"]


@settings(max_examples=60, deadline=None)
@given(expr=compositions(PRIMITIVES, max_leaves=5), linktype=st.sampled_from([1, 12, 113, 101]))
def test_compile_filter_always_is_bpfc_compile_or_its_refusal(expr: str, linktype: int) -> None:
    """Whatever the expression: scapy gets bpfc's program for pcap_open_dead(dlt, MTU)
    with an unknown netmask, or Scapy_Exception carrying bpfc's message."""
    bscapy.install("always")
    dlt = 12 if linktype == 101 else linktype
    try:
        want: object = list(map(tuple, bpfc.compile(expr, dlt, 0xFFFF, netmask=None)))
    except bpfc.CompileError as err:
        want = err.message
    try:
        got: object = _insns(scapy.arch.common.compile_filter(expr, linktype=linktype))
    except Scapy_Exception as err:
        got = str(err).splitlines()[0]
        assert (
            isinstance(want, str)
            and got == f"Failed to compile filter expression {expr!r} ({want})"
        )
    else:
        assert got == want


def test_compile_filter_for_an_interface_uses_scapys_arphrd_map() -> None:
    bscapy.install("always")
    bp = scapy.arch.common.compile_filter("tcp or vlan", iface="lo")  # ARPHRD_LOOPBACK
    assert _insns(bp) == list(map(tuple, bpfc.compile("tcp or vlan", 1, 0xFFFF, netmask=None)))
    with pytest.raises(Scapy_Exception, match="netmask not known"):  # pcap_open_dead's
        scapy.arch.common.compile_filter("ip broadcast", iface="lo")


def test_refusal_is_scapys_exception_with_bpfcs_message_and_caret() -> None:
    bscapy.install("always")
    with pytest.raises(Scapy_Exception) as err:
        scapy.arch.common.compile_filter("tcp prot 80", linktype=1)
    lines = str(err.value).splitlines()
    assert lines[0] == (
        "Failed to compile filter expression 'tcp prot 80' "
        "(can't parse filter expression: syntax error)"
    )
    assert lines[1:3] == ["  tcp prot 80", "      ^~~~"]


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_fallback_leaves_scapys_own_way_where_it_works() -> None:
    from bpfc import libpcap

    if not libpcap.available():
        pytest.skip("system libpcap not available")
    bscapy.install("fallback")
    bp = scapy.arch.common.compile_filter("tcp", linktype=1)
    assert getattr(bp, "_bpfc_array", None) is None  # libpcap's, freed by libpcap
    scapy.arch.common.free_filter(bp)


def test_packet_lists_are_filtered_in_process() -> None:
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.l2 import Ether

    packets = [Ether() / IP() / TCP(dport=80), Ether() / IP() / UDP(), Ether() / IP() / ICMP()]
    bscapy.install("always")
    got = scapy.sendrecv.sniff(offline=packets, filter="tcp port 80 or icmp")
    assert [bytes(p) for p in got] == [bytes(packets[0]), bytes(packets[2])]
    data = scapy.utils.tcpdump(packets, flt="udp", args=["-w", "-"], dump=True)
    assert data.startswith(b"\xd4\xc3\xb2\xa1") and bytes(packets[1]) in data
    raw = [bytes(p[IP]) for p in packets]  # raw IP, the link type named as scapy allows
    data = scapy.utils.tcpdump(raw, flt="udp", args=["-w", "-"], dump=True, linktype="DLT_RAW")
    assert data[20:24] == (12).to_bytes(4, "little") and data.endswith(raw[1])
    with pytest.raises(Scapy_Exception, match="not supported on DLT_EN10MB|syntax error"):
        scapy.sendrecv.sniff(offline=packets, filter="tcp port")


def test_tcpdump_filtering_calls_read_as_tcpdumps_output(tmp_path: Path) -> None:
    """dump, getfd and getproc over a file name and a file object: the same pcap bytes
    as ``bpfc filter -r F -w -`` (tcpdump's, checked by the offline test below)."""
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapReader, wrpcap

    path = tmp_path / "in.pcap"
    packets = [Ether() / IP() / TCP(dport=n) for n in (22, 80, 443)] + [Ether() / IP() / UDP()]
    wrpcap(str(path), packets)
    bscapy.install("always")
    dumped = scapy.utils.tcpdump(str(path), flt="tcp port 80 or udp", args=["-w", "-"], dump=True)
    with open(path, "rb") as handle:
        fd = scapy.utils.tcpdump(handle, flt="tcp port 80 or udp", args=["-w", "-"], getfd=True)
        assert fd.read() == dumped
    proc = scapy.utils.tcpdump(str(path), flt="tcp port 80 or udp", args=["-w", "-"], getproc=True)
    with PcapReader(proc.stdout) as reader:
        got = [bytes(p) for p in reader]
    proc.terminate()
    assert proc.wait() == 0
    assert got == [bytes(packets[1]), bytes(packets[3])]
    with pytest.raises(Scapy_Exception, match="Failed to compile filter expression 'tcp port'"):
        scapy.utils.tcpdump(str(path), flt="tcp port", args=["-w", "-"], dump=True)
    if shutil.which("tcpdump") is not None:  # byte for byte what tcpdump writes
        theirs = subprocess.run(
            ["tcpdump", "-r", str(path), "-w", "-", "tcp port 80 or udp"],
            capture_output=True,
            check=True,
        )
        assert dumped == theirs.stdout


def _run_child(code: str, *argv: str, netns: str | None = None, blind: bool = True) -> object:
    """Run ``code`` in a python without libpcap (for scapy) and without tcpdump on PATH
    (``blind=False``: with both); its last stdout line is JSON."""
    with tempfile.TemporaryDirectory() as empty:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        if blind:
            env["PATH"] = empty
        command = [sys.executable, "-c", (NO_LIBPCAP if blind else "") + code, *argv]
        if netns is not None:
            command = [shutil.which("ip") or "ip", "netns", "exec", netns, *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


OFFLINE_CHILD = """
import json, sys
import bpfc.scapy
bpfc.scapy.install()  # fallback: neither libpcap nor tcpdump here
from scapy.all import conf, sniff
assert conf.use_pcap is False
out = {}
for path, expr in json.loads(sys.argv[1]):
    try:
        got = sniff(offline=path, filter=expr, quiet=True)
        out[path + "|" + expr] = [p.original.hex() for p in got]
    except Exception as err:
        out[path + "|" + expr] = type(err).__name__ + ": " + str(err).splitlines()[0]
print(json.dumps(out))
"""

OFFLINE_FILTERS = ["ip", "tcp port 80", "udp or icmp", "not arp", "ip6 and len > 100"]


def _tcpdump_selects(path: Path, expr: str) -> list[str] | None:
    """The packets ``tcpdump -r PATH -w - EXPR`` writes (on master where built), or None
    when tcpdump refuses the filter or the file."""
    from support.oracles import master_soname_dir

    env = dict(os.environ)
    libdir, _ = master_soname_dir()
    if libdir is not None:
        env["LD_LIBRARY_PATH"] = str(libdir)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.pcap"
        done = subprocess.run(
            ["tcpdump", "-r", str(path), "-w", str(out), expr],
            capture_output=True,
            env=env,
            timeout=60,
        )
        if done.returncode != 0 or not out.exists():
            return None
        # scapy's reader keeps at most MTU (65535) bytes of a packet, whoever filtered it
        return [record[-1][:65535].hex() for record in read_packets(out)]


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_offline_sniff_without_libpcap_or_tcpdump_returns_tcpdumps_packets() -> None:
    if not PCAPS.is_dir():
        pytest.skip(f"upstream captures not found at {PCAPS}")
    stride = int(os.environ.get("BPFC_SCAPY_STRIDE", "6"))  # 1: every capture file
    files = sorted(p for p in PCAPS.iterdir() if p.suffix in (".pcap", ".pcapng"))[::stride]
    cases = [(str(f), expr) for f in files for expr in OFFLINE_FILTERS]
    ours = _run_child(OFFLINE_CHILD, json.dumps(cases))
    compared = matched = 0
    for path, expr in cases:
        theirs = _tcpdump_selects(Path(path), expr)
        got = ours[f"{path}|{expr}"]  # type: ignore[index]
        if theirs is None:
            continue  # tcpdump refuses (a link type without ip, a damaged file)
        assert got == theirs, (path, expr)
        compared += 1
        matched += len(theirs)
    print(f"offline: {compared} of {len(cases)} compared, {matched} packets")
    assert compared >= len(cases) // 3 and matched > 0, (compared, matched)


LIVE_CHILD = """
import json, sys, time
import bpfc.scapy
how = sys.argv[2] if len(sys.argv) > 2 else "fallback"
if how == "use_pcap":  # scapy's libpcap sockets, bpfc's programs in them
    from scapy.config import conf
    conf.use_pcap = True
    bpfc.scapy.install("always")
elif how == "fallback":
    bpfc.scapy.install()
# "native": scapy on its own, libpcap compiling
from scapy.all import AsyncSniffer, Ether, IP, IPv6, UDP, TCP, ARP, Raw, sendp, sniff, conf
from scapy.error import Scapy_Exception
expr = sys.argv[1]
def ip(src="10.7.0.1"):
    return Ether(dst="02:00:00:00:00:0a") / IP(src=src, dst="10.7.0.2")
# marked payloads; which ones match is decided by construction
frames = [ip() / UDP(sport=1000, dport=7777) / Raw(b"match%d" % n) for n in range(6)]
frames += [
    ip() / UDP(dport=7778) / Raw(b"other-port"),
    ip("10.7.0.9") / UDP(dport=7777) / Raw(b"other-src"),
    ip() / TCP(dport=7777) / Raw(b"tcp"),
    Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="10.7.0.2"),
    Ether(dst="02:00:00:00:00:0a") / IPv6() / UDP(dport=7777) / Raw(b"ipv6"),
]
import threading
started = threading.Event()
seen = []
sniffer = AsyncSniffer(iface="va", filter=expr, store=True, started_callback=started.set,
                       prn=seen.append)
sniffer.start()
started.wait(30)
probe = conf.L2listen(iface="va", filter=expr)
bpfc_in_pcap = hasattr(getattr(probe, "pcap_fd", None), "_bpfc_program")
probe.close()
for frame in frames:
    sendp(frame, iface="vb", verbose=False)
deadline = time.monotonic() + 30  # a loaded machine: wait for the six, then a little more
while time.monotonic() < deadline and len(seen) < 6:
    time.sleep(0.05)
time.sleep(0.5)
got = sniffer.stop()
payloads = sorted(bytes(p[Raw].load).decode() if Raw in p else p.summary() for p in got)
try:
    sniff(iface="va", filter="udp port 7777 and tcp prot", count=1, timeout=1)
    refused = ""
except Scapy_Exception as err:
    refused = str(err)
sockets = []
try:
    conf.L2listen(iface="va", filter="udp and port")
except Scapy_Exception as err:
    sockets.append(str(err))
print(json.dumps({"payloads": payloads, "refused": refused, "listen": sockets,
                  "socket": conf.L2listen.__name__, "bpfc_in_pcap": bpfc_in_pcap}))
"""


@pytest.fixture(scope="module")
def veth_netns() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and ip(8)")
    name = f"bpfc-scapy-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    try:
        for cmd in (
            ["link", "add", "va", "type", "veth", "peer", "name", "vb"],
            ["link", "set", "va", "address", "02:00:00:00:00:0a", "up"],
            ["link", "set", "vb", "up"],
            ["link", "set", "lo", "up"],
        ):
            subprocess.run(["ip", "-n", name, *cmd], check=True, capture_output=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_live_sniff_on_veth_receives_exactly_the_matching_frames(veth_netns: str) -> None:
    result = _run_child(LIVE_CHILD, "udp dst port 7777 and src host 10.7.0.1", netns=veth_netns)
    assert result["payloads"] == [f"match{n}" for n in range(6)]  # type: ignore[index]
    assert result["socket"] == "L2ListenSocket"  # type: ignore[index]
    refused = result["refused"]  # type: ignore[index]
    assert "Failed to compile filter expression" in refused and "syntax error" in refused
    assert "^~~~" in refused
    [listen] = result["listen"]  # type: ignore[index]
    assert listen.startswith(
        "Cannot set filter: Failed to compile filter expression 'udp and port'"
    )


def test_live_sniff_as_scapy_with_libpcap_gets_the_same_frames(veth_netns: str) -> None:
    """The reference for the test above: scapy alone, libpcap compiling its filter."""
    from bpfc import libpcap

    if not libpcap.available():
        pytest.skip("system libpcap not available")
    expr = "udp dst port 7777 and src host 10.7.0.1"
    result = _run_child(LIVE_CHILD, expr, "native", netns=veth_netns, blind=False)
    assert result["payloads"] == [f"match{n}" for n in range(6)]  # type: ignore[index]
    assert result["refused"].startswith("Cannot set filter: Failed to compile filter expression")  # type: ignore[index]


def test_live_sniff_through_scapys_libpcap_sockets_with_bpfcs_program(veth_netns: str) -> None:
    """``conf.use_pcap`` and ``install("always")``: libpcap opens the capture, bpfc's
    program is what ``pcap_setfilter`` installs, and the same frames arrive."""
    from bpfc import libpcap

    if not libpcap.available():
        pytest.skip("system libpcap not available")
    expr = "udp dst port 7777 and src host 10.7.0.1"
    result = _run_child(LIVE_CHILD, expr, "use_pcap", netns=veth_netns, blind=False)
    assert result["socket"] == "L2pcapListenSocket"  # type: ignore[index]
    assert result["bpfc_in_pcap"] is True  # type: ignore[index]
    assert result["payloads"] == [f"match{n}" for n in range(6)]  # type: ignore[index]
    assert "Cannot set filter" in result["refused"] and "^~~~" in result["refused"]  # type: ignore[index]
