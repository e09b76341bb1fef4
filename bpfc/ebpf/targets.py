"""The three eBPF program types a cBPF filter is translated for, and what each one offers.

* ``xdp`` (``BPF_PROG_TYPE_XDP``): the context is ``struct xdp_md``; the packet is
  ``data .. data_end`` (the frame as the driver received it; ``len`` is
  ``data_end - data``: XDP knows no wire length beyond the frame); no socket-buffer
  metadata, so ancillary loads are refused.
* ``tc`` (``BPF_PROG_TYPE_SCHED_CLS``, direct action): the context is ``struct
  __sk_buff``; the packet is ``data .. data_end`` from the MAC header; ``len`` is
  ``skb->len``; ancillary loads read ``__sk_buff`` fields.
* ``socket`` (``BPF_PROG_TYPE_SOCKET_FILTER``): the context is ``struct __sk_buff`` but
  direct packet access is not allowed; packet loads use the legacy ``LD_ABS``/``LD_IND``
  instructions (see :mod:`bpfc.ebpf.translate`); the return value is the cBPF one.

The verdict numbers are the kernel's UAPI (``enum xdp_action``, ``TC_ACT_*``).
"""

from __future__ import annotations

from typing import NamedTuple

from bpfc.ebpf.errors import TranslationError

__all__ = ["ACTIONS", "SKB_FIELDS", "TARGETS", "Target", "action_value"]


class Target(NamedTuple):
    """One program type: its name, ELF section, ``BPF_PROG_TYPE_*`` and default verdicts."""

    name: str
    section: str
    prog_type: int
    accept: int | None
    """Default accept verdict; None: return the cBPF value itself."""
    reject: int
    direct: bool
    """Direct packet access (``data``/``data_end``) rather than ``LD_ABS``/``LD_IND``."""
    data_off: int | None
    data_end_off: int | None
    skb: bool
    """The context is a ``struct __sk_buff`` (ancillary loads have fields)."""


BPF_PROG_TYPE_SOCKET_FILTER = 1
BPF_PROG_TYPE_SCHED_CLS = 3
BPF_PROG_TYPE_XDP = 6

XDP_ACTIONS = {"aborted": 0, "drop": 1, "pass": 2, "tx": 3, "redirect": 4}
TC_ACTIONS = {
    "unspec": -1,
    "ok": 0,
    "reclassify": 1,
    "shot": 2,
    "pipe": 3,
    "stolen": 4,
    "queued": 5,
    "repeat": 6,
    "redirect": 7,
}

TARGETS: dict[str, Target] = {
    "xdp": Target("xdp", "xdp", BPF_PROG_TYPE_XDP, 2, 1, True, 0, 4, False),
    "tc": Target("tc", "tc", BPF_PROG_TYPE_SCHED_CLS, 0, 2, True, 76, 80, True),
    "socket": Target(
        "socket", "socket", BPF_PROG_TYPE_SOCKET_FILTER, None, 0, False, None, None, True
    ),
}
"""By name: ``xdp`` (data at ``xdp_md`` offset 0, data_end 4), ``tc`` (``__sk_buff``
offsets 76 and 80), ``socket``."""

ACTIONS: dict[str, dict[str, int]] = {"xdp": XDP_ACTIONS, "tc": TC_ACTIONS, "socket": {}}
"""Verdict names per target (``XDP_PASS`` is ``pass``, ``TC_ACT_SHOT`` is ``shot``)."""


class SkbField(NamedTuple):
    """A ``struct __sk_buff`` field an ancillary load reads."""

    offset: int
    swap16: bool
    """Held in network byte order (``protocol``, ``vlan_proto``); cBPF gives host order."""


SKB_FIELDS: dict[str, SkbField] = {
    "len": SkbField(0, False),
    "pkttype": SkbField(4, False),
    "mark": SkbField(8, False),
    "queue": SkbField(12, False),
    "protocol": SkbField(16, True),
    "vlan_tag_present": SkbField(20, False),
    "vlan_tag": SkbField(24, False),
    "vlan_tpid": SkbField(28, True),
    "ifindex": SkbField(40, False),
    "rxhash": SkbField(68, False),
}
"""cBPF ancillary name (``SKF_AD_*`` lower-cased, plus ``len``) -> ``__sk_buff`` field."""

HELPER_ANCILLARIES = {"cpu": 8, "random": 7}
"""Ancillaries computed by a helper call: ``bpf_get_smp_processor_id`` (8),
``bpf_get_prandom_u32`` (7)."""

BPF_FUNC_SKB_PULL_DATA = 39


def action_value(target: str, value: int | str, what: str) -> int:
    """A verdict given as a number or as a name of ``target``'s (``"pass"``, ``"shot"``);
    :class:`TranslationError` (a ValueError) for an unknown name or a number past 32 bits."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int or a verdict name, not bool")
    if isinstance(value, int):
        if not -0x80000000 <= value <= 0xFFFFFFFF:
            raise TranslationError(f"{what} {value} does not fit in 32 bits")
        return value
    if isinstance(value, str):
        names = ACTIONS[target]
        key = value.lower()
        for prefix in ("xdp_", "tc_act_"):
            key = key.removeprefix(prefix)
        if key in names:
            return names[key]
        known = ", ".join(names) or "none: give a number"
        raise TranslationError(f"unknown {target} verdict {value!r} for {what} (known: {known})")
    raise TypeError(f"{what} must be an int or a verdict name, not {type(value).__name__}")
