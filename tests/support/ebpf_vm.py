"""A small eBPF interpreter for the instructions bpfc's translator emits, strict like the
verifier: a test oracle, so the translation's meaning can be checked in pure Python
against the bundled cBPF interpreter on random programs (the kernel-run proofs live
beside the kernel module's tests).

Memory is three regions at made-up 64-bit addresses: the context (``struct xdp_md`` or
``struct __sk_buff`` fields built from keyword metadata, with ``data``/``data_end``
yielding packet pointers as the kernel's rewrite of those loads does), the packet and a
512-byte stack.  Anything the verifier would refuse and a run could reach raises
:class:`VmFault`: a packet access outside ``data .. data_end``, a read of an unwritten
register or stack byte, an unknown opcode or helper, a jump out of the program.
ALU semantics are the kernel's (32-bit operations zero the upper half; division by 0
gives 0, modulo by 0 keeps the dividend; shift counts are masked).  ``LD_ABS``/``LD_IND``
read the skb as the kernel does for a socket filter (:func:`bpfc.vm.interp.load` in
Linux mode: the same rules as a classic filter's loads), ending the run with 0 on failure.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from bpfc.ebpf import insn as e
from bpfc.vm.interp import load as cbpf_load

CTX = 1 << 40
PKT = 2 << 40
STACK_TOP = 3 << 40
M64 = (1 << 64) - 1
M32 = 0xFFFFFFFF


class VmFault(AssertionError):
    """The program did something the verifier exists to prevent."""


def _swap16(value: int) -> int:
    value &= 0xFFFF
    return ((value & 0xFF) << 8 | value >> 8) if sys.byteorder == "little" else value


def _ctx_fields(target: str, packet: bytes, meta: dict[str, Any]) -> dict[int, int]:
    end = PKT + len(packet)
    if target == "xdp":
        return {0: PKT, 4: end}
    present = meta.get("vlan_present")
    if present is None:
        present = 1 if "vlan_tci" in meta else 0
    fields = {
        0: len(packet),
        4: meta.get("pkttype", 0),
        8: meta.get("mark", 0),
        12: meta.get("queue", 0),
        16: _swap16(meta.get("protocol", 0)),  # __be16 in the skb
        20: int(bool(present)),
        24: meta.get("vlan_tci", 0),
        28: _swap16(meta.get("vlan_tpid", 0)),
        40: meta.get("ifindex", 0),
        68: meta.get("rxhash", 0),
    }
    if target == "tc":
        fields.update({76: PKT, 80: end})
    return fields


def run(
    insns: Sequence[e.EbpfInsn], target: str, packet: bytes, max_steps: int = 100_000, **meta: Any
) -> int:
    """The program's return value (``r0`` at ``exit``, as an unsigned 32-bit number)."""
    ctx = _ctx_fields(target, packet, meta)
    regs: list[int | None] = [None] * 11
    regs[1] = CTX
    regs[10] = STACK_TOP
    stack = bytearray(512)
    written = bytearray(512)
    pkt = bytes(packet)
    pc = 0
    steps = 0

    def get(reg: int) -> int:
        value = regs[reg]
        if value is None:
            raise VmFault(f"pc {pc}: r{reg} read before it is written")
        return value

    def mem_read(addr: int, size: int) -> int:
        if CTX <= addr < CTX + 256:
            off = addr - CTX
            if off not in ctx or size != 4:
                raise VmFault(f"pc {pc}: context read at offset {off} size {size}")
            return ctx[off]
        if PKT <= addr < PKT + (1 << 32):
            off = addr - PKT
            if off + size > len(pkt):
                raise VmFault(f"pc {pc}: packet read [{off}, {off + size}) past {len(pkt)}")
            return int.from_bytes(pkt[off : off + size], sys.byteorder)
        if STACK_TOP - 512 <= addr < STACK_TOP:
            off = addr - (STACK_TOP - 512)
            if off + size > 512 or not all(written[off : off + size]):
                raise VmFault(f"pc {pc}: stack read at fp{addr - STACK_TOP} of unwritten bytes")
            return int.from_bytes(stack[off : off + size], sys.byteorder)
        raise VmFault(f"pc {pc}: read from a non-pointer {addr:#x}")

    def mem_write(addr: int, size: int, value: int) -> None:
        if not STACK_TOP - 512 <= addr <= STACK_TOP - size:
            raise VmFault(f"pc {pc}: write outside the stack at {addr:#x}")
        off = addr - (STACK_TOP - 512)
        stack[off : off + size] = (value & ((1 << (8 * size)) - 1)).to_bytes(size, sys.byteorder)
        written[off : off + size] = b"\x01" * size

    while True:
        if not 0 <= pc < len(insns):
            raise VmFault(f"jump out of the program to {pc}")
        steps += 1
        if steps > max_steps:
            raise VmFault("too many steps (a loop?)")
        code, dst, src, off, imm = insns[pc]
        cls = code & e.CLASS_MASK
        pc += 1
        if cls in (e.ALU, e.ALU64):
            op = code & e.OP_MASK
            wide = cls == e.ALU64
            mask = M64 if wide else M32
            if op == e.END:
                value = get(dst)
                bits = imm
                value &= (1 << bits) - 1
                if code & e.SRC_MASK == e.TO_BE and sys.byteorder == "little":
                    value = int.from_bytes(value.to_bytes(bits // 8, "little"), "big")
                regs[dst] = value
                continue
            operand = (get(src) if code & e.SRC_MASK else imm & M64) & mask
            if op == e.MOV:
                regs[dst] = operand
                continue
            a = get(dst) & mask
            if op == e.ADD:
                r = a + operand
            elif op == e.SUB:
                r = a - operand
            elif op == e.MUL:
                r = a * operand
            elif op == e.DIV:
                r = a // operand if operand else 0
            elif op == e.MOD:
                r = a % operand if operand else a
            elif op == e.OR:
                r = a | operand
            elif op == e.AND:
                r = a & operand
            elif op == e.XOR:
                r = a ^ operand
            elif op == e.LSH:
                r = a << (operand & (63 if wide else 31))
            elif op == e.RSH:
                r = a >> (operand & (63 if wide else 31))
            elif op == e.NEG:
                r = -a
            else:
                raise VmFault(f"pc {pc - 1}: ALU operation {op:#x} not expected")
            regs[dst] = r & mask
        elif cls in (e.JMP, e.JMP32):
            op = code & e.OP_MASK
            if op == e.EXIT:
                return get(0) & M32
            if op == e.CALL:
                if imm == 39:  # bpf_skb_pull_data: the test packet is linear already
                    get(1)
                    get(2)
                    result = 0
                elif imm == 7:
                    result = meta.get("random", 0) & M32
                elif imm == 8:
                    result = meta.get("cpu", 0) & M32
                else:
                    raise VmFault(f"pc {pc - 1}: helper {imm} not expected")
                regs[1:6] = [None] * 5
                regs[0] = result
                continue
            if op == e.JA:
                pc += imm if cls == e.JMP32 else off  # JMP32: gotol, a 32-bit offset
                continue
            mask = M32 if cls == e.JMP32 else M64
            a = get(dst) & mask
            b = (get(src) if code & e.SRC_MASK else imm & M64) & mask
            taken = {
                e.JEQ: a == b,
                e.JNE: a != b,
                e.JGT: a > b,
                e.JGE: a >= b,
                e.JLT: a < b,
                e.JLE: a <= b,
                e.JSET: bool(a & b),
            }.get(op)
            if taken is None:
                raise VmFault(f"pc {pc - 1}: jump operation {op:#x} not expected")
            if taken:
                pc += off
        elif cls == e.LDX:
            size = e.SIZE_BYTES[code & e.SIZE_MASK]
            regs[dst] = mem_read((get(src) + off) & M64, size)
        elif cls == e.STX:
            size = e.SIZE_BYTES[code & e.SIZE_MASK]
            mem_write((get(dst) + off) & M64, size, get(src))
        elif cls == e.ST:
            size = e.SIZE_BYTES[code & e.SIZE_MASK]
            mem_write((get(dst) + off) & M64, size, imm)
        elif cls == e.LD and code & e.MODE_MASK in (e.ABS, e.IND):
            if regs[6] != CTX:
                raise VmFault(f"pc {pc - 1}: LD_ABS/LD_IND with r6 not the context")
            size = e.SIZE_BYTES[code & e.SIZE_MASK]
            offset = imm if code & e.MODE_MASK == e.ABS else get(src) + imm
            value = cbpf_load(pkt, offset & M32, size, True, meta)
            if value is None:
                return 0
            regs[1:6] = [None] * 5
            regs[0] = value
        else:
            raise VmFault(f"pc {pc - 1}: opcode {code:#04x} not expected")
