"""The equivalence policy: what "bpfc agrees with libpcap" means, packet by packet.

:func:`differential.check` compares like with like (optimized with optimized).  That is
too strict in one place and too loose in another: libpcap's optimizer deletes loads
whose value cannot matter, so libpcap's *optimized* program accepts short packets its
own unoptimized program rejects, and a comparison of optimized programs alone never
notices bpfc's optimizer changing a verdict where libpcap's did too.  The policy
(docs/testing.md, "The equivalence policy") is:

* **unopt** -- the meaning of an expression is libpcap's unoptimized program.  bpfc's
  unoptimized program must return the same value on every packet, short and truncated
  ones included.  The only excuse is a deliberate change in libpcap master
  (:data:`MASTER_CHANGES`): the disagreement is excused when the 1.10.3 program,
  rewritten the way master generates that construct, agrees with bpfc on the packet.
  Master also folds build-time constants (:data:`FOLDING_WHY`).
  Where libpcap's verdict depends on scratch registers it never wrote (:class:`Scratch`),
  bpfc is held to the verdict with them zeroed.
* **opt-self** -- bpfc's optimizer never changes a verdict: bpfc optimized must equal
  bpfc unoptimized on every packet (a load that may fail is not dead).
* **opt-ref** -- bpfc optimized equals libpcap optimized on the packets where libpcap's
  optimized and unoptimized programs agree (elsewhere libpcap changed its own verdict)
  and the unoptimized programs agree (elsewhere the unopt rule judges).
* **compile** -- both rejecting agrees.  bpfc's ``expression rejects all packets`` where
  libpcap's optimizer compiles agrees when bpfc's unoptimized program and both of
  libpcap's programs return 0 on every packet of the set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from bpfc.packetgen import Packet
from support.differential import (
    CompileFn,
    Disagreement,
    Insns,
    Rejected,
    bpfc_compile,
    bpfc_runner,
    default_packets,
    libpcap_compile,
    libpcap_runner,
    require_libpcap,
)

BPF_LD_B_ABS = 0x30
BPF_LD_B_IND = 0x50
BPF_JGE_K = 0x35
BPF_JGT_K = 0x25
BPF_JEQ_K = 0x15
BPF_LD_W_ABS = 0x20
BPF_LD_W_IND = 0x40
BPF_LD_IMM = 0x00
BPF_AND_K = 0x54


def _replace(insns: Insns, at: int, new: Insns) -> Insns:
    """``insns`` with instruction ``at`` replaced by ``new`` (whose jumps are relative to
    their own positions, as if ``new`` were one instruction); every jump over ``at``,
    forward or ``protochain``'s backward ``ja``, is stretched to match."""
    grow = len(new) - 1

    def moved(i: int) -> int:
        return i + grow if i > at else i

    out: Insns = []
    for i, (code, jt, jf, k) in enumerate(insns):
        if i == at:
            out += new
            continue
        if code & 0x07 == 0x05 and code != 0x05:  # conditional jump
            jt = moved(i + 1 + jt) - moved(i) - 1
            jf = moved(i + 1 + jf) - moved(i) - 1
        elif code == 0x05:  # ja, 32-bit and possibly backward
            delta = k - (1 << 32) if k >= 0x80000000 else k
            k = (moved(i + 1 + delta) - moved(i) - 1) & 0xFFFFFFFF
        out.append((code, jt, jf, k))
    return out


def master_ip_multicast(insns: Insns) -> Insns:
    """1.10.3 tests ``ip multicast`` with ``ldb [dst]; jge #0xe0`` (class D *and E*);
    master masks the top nibble and compares with 0xe0 (class D only).  Rewrite every
    ``ldb [k]; jge #0xe0`` (or ``ldb [x + k]``, behind 802.11's variable header) to also
    reject values above 0xef."""
    out = list(insns)
    i = 0
    while i + 1 < len(out):
        (code, _, _, _), (jcode, jt, jf, k) = out[i], out[i + 1]
        if code in (BPF_LD_B_ABS, BPF_LD_B_IND) and jcode == BPF_JGE_K and k == 0xE0:
            # jge #0xe0 -> jge #0xe0 (jt next, jf F); jgt #0xef (jt F, jf T)
            out = _replace(out, i + 1, [(BPF_JGE_K, 0, jf + 1, 0xE0), (BPF_JGT_K, jf, jt, 0xEF)])
            i += 1
        i += 1
    return out


def master_ip6_net(insns: Insns) -> Insns:
    """1.10.3 loads all four words of an IPv6 address for ``ip6 net`` and masks the
    unused ones with ``and #0`` (so a short packet rejects); master skips the words whose
    mask is 0.  Rewrite ``ld [k]``/``ld [x + k]`` followed by ``and #0; jeq #0`` to ``ld #0``."""
    out = list(insns)
    for i in range(len(out) - 2):
        if (
            out[i][0] in (BPF_LD_W_ABS, BPF_LD_W_IND)
            and out[i + 1] == (BPF_AND_K, 0, 0, 0)
            and out[i + 2][0] == BPF_JEQ_K
            and out[i + 2][3] == 0
        ):
            out[i] = (BPF_LD_IMM, 0, 0, 0)
    return out


# name -> (rewrite of a 1.10.3 program into master's behaviour, why master differs)
MASTER_CHANGES: dict[str, tuple[Callable[[Insns], Insns], str]] = {
    "ip multicast": (
        master_ip_multicast,
        "master tests the class-D nibble (dst & 0xf0 == 0xe0); 1.10.3 accepts dst >= 224",
    ),
    "ip6 net": (
        master_ip6_net,
        "master does not load IPv6 address words under a zero mask; 1.10.3 does, so it "
        "rejects packets too short for them",
    ),
}


def has_constant_tests(insns: Insns) -> bool:
    """Whether the program holds a build-time constant (``ld #k; jeq #c``: 1.10.3's
    ``gen_true``/``gen_false``, e.g. ``ip`` on DLT_IPV6)."""
    return any(
        a[0] == BPF_LD_IMM and b[0] == BPF_JEQ_K for a, b in zip(insns, insns[1:], strict=False)
    )


FOLD_PAD = 512
FILLS = (0x00, 0x3B, 0xFF)  # 0x3b: IPv6 "no next header", ends a protochain walk

FOLDING_WHY = (
    "master folds build-time constants (`udp and ip` on DLT_IPV6 is plain false), so the "
    "other operand's loads are gone and cannot reject a short packet; 1.10.3 runs them. "
    "Its own optimizer folds them the same way, so the disagreement is excused when the "
    "1.10.3 unoptimized program has a constant test and its optimized program gives "
    "bpfc's verdict (with protochain, which stops 1.10.3's optimizer: any verdict on a "
    "packet where 1.10.3's unoptimized program aborts, padded or not)"
)


def check_policy(
    expr: str,
    linktype: str = "EN10MB",
    packets: Sequence[Packet] | None = None,
    snaplen: int = 262144,
    netmask: int | None = None,
    optimize: Sequence[bool] = (True, False),
    *,
    candidate: CompileFn = bpfc_compile,
    reference: CompileFn = libpcap_compile,
    candidate_runner: Callable[[Insns], Callable] = bpfc_runner,
    reference_runner: Callable[[Insns], Callable] = libpcap_runner,
    max_reports: int = 2,
    stats: Counter | None = None,
) -> list[Disagreement]:
    """Every breach of the policy over ``packets``; ``optimize`` picks the rules checked
    (False: unopt, True: opt-self, opt-ref and the optimizer's refusals).  ``stats``
    counts what the policy excused (master changes, libpcap changing its own verdict,
    proved-unsatisfiable refusals)."""
    if reference is libpcap_compile or reference_runner is libpcap_runner:
        require_libpcap()
    stats = Counter() if stats is None else stats
    ref = {opt: _compile(reference, expr, linktype, snaplen, opt, netmask) for opt in (1, 0)}
    ours = {opt: _compile(candidate, expr, linktype, snaplen, opt, netmask) for opt in (1, 0)}
    if packets is None:
        progs = [r for r in ref.values() if not isinstance(r, Rejected)]
        packets = default_packets(expr, linktype, progs)
    runs: dict[tuple[str, int], list[int] | None] = {}
    for who, progs, runner in (("ours", ours, candidate_runner), ("ref", ref, reference_runner)):
        for opt, prog in progs.items():
            if not isinstance(prog, Rejected):
                run = runner(prog)
                runs[who, opt] = [run(p.data, p.wirelen) for p in packets]
            else:
                runs[who, opt] = None
    out: list[Disagreement] = []

    def report(opt: bool, rule: str, pkt, a, b, our_prog, ref_prog) -> None:
        if sum(d.optimize == opt and d.rule == rule for d in out) < max_reports:
            out.append(Disagreement(expr, linktype, opt, pkt, a, b, our_prog, ref_prog, rule))

    if False in optimize:
        _unopt(ours[0], ref[0], ref[1], runs, packets, report, stats, reference_runner)
    if True in optimize:
        _opt(ours, ref, runs, packets, report, stats, reference_runner)
    return out


def _compile(fn: CompileFn, expr, linktype, snaplen, opt, netmask) -> Insns | Rejected:
    try:
        return fn(expr, linktype, snaplen, bool(opt), netmask)
    except Rejected as err:
        return err


class Scratch:
    """libpcap's ``bpf_filter`` leaves the scratch registers M[] uninitialized, and some
    programs (``geneve`` or ``vxlan`` on a path where the tunnel test failed) read them
    before any store.  On such a packet libpcap's verdict is undefined; the policy then
    holds the other side to the verdict with M[] zeroed, as ``bpfc.vm`` starts.  A
    verdict counts as undefined when it changes with M[]'s initial contents (tried: all
    zeros, all ones, 0x7fffffff, and whatever libpcap's stack held)."""

    POISONS = (0, 0xFFFFFFFF, 0x7FFFFFFF)

    def __init__(self, prog: Insns, runner: Callable[[Insns], Callable]) -> None:
        self.prog, self.runner, self._runs = prog, runner, None

    def verdict(self, pkt: Packet, actual: int) -> tuple[int, bool]:
        """(the verdict with M[] zeroed, whether the verdict is defined)."""
        if self._runs is None:
            self._runs = [self.runner(_prefill(self.prog, v)) for v in self.POISONS]
        seen = [run(pkt.data, pkt.wirelen) for run in self._runs]
        return seen[0], len(set(seen) | {actual}) == 1


def _prefill(prog: Insns, value: int) -> Insns:
    """``prog`` behind a prologue storing ``value`` in every scratch register (A and X are
    0 again when ``prog`` starts; its jumps are forward, so none needs moving)."""
    prologue = [(0x00, 0, 0, value)] + [(0x02, 0, 0, m) for m in range(16)]
    return prologue + [(0x00, 0, 0, 0)] + list(prog)


def _folded_runner(ref, ref_opt, reference_runner) -> Callable:
    """The verdicts master's folding allows on a packet, as a runner returning a set:
    libpcap's optimized program's (``ret #0`` where it proved the expression
    unsatisfiable).  1.10.3's optimizer leaves a program with ``protochain``'s backward
    jump alone, and a chain walk that runs off the capture, or never ends (its AH step
    forgets the header's offset, in master too), cannot be modelled by padding the
    capture.  There, where 1.10.3's program aborts (a load fails or the walk hits the
    interpreter's backward-jump limit) on the capture or on it padded with
    :data:`FOLD_PAD` bytes of any of :data:`FILLS`, any verdict is allowed: this is the
    weakest point of the policy."""
    if any(code == 0x05 and k >= 0x80000000 for code, _, _, k in ref):
        run = reference_runner(ref)
        # every ret k becomes ret k + 1, so 0 means the run aborted
        marked = reference_runner([(c, jt, jf, k + 1 if c == 0x06 else k) for c, jt, jf, k in ref])

        def allowed(data: bytes, wirelen: int) -> set[int] | range:
            padded = [data + bytes([fill]) * FOLD_PAD for fill in FILLS]
            aborts = any(marked(p, wirelen) == 0 for p in [data, *padded])
            return range(1 << 32) if aborts else {run(data, wirelen)}

        return allowed
    if isinstance(ref_opt, Rejected):
        return (lambda data, wirelen: {0}) if "rejects all" in ref_opt.message else None
    run = reference_runner(ref_opt)
    return lambda data, wirelen: {run(data, wirelen)}


def _unopt(ours, ref, ref_opt, runs, packets, report, stats, reference_runner) -> None:
    if isinstance(ours, Rejected) or isinstance(ref, Rejected):
        if isinstance(ours, Rejected) != isinstance(ref, Rejected):
            a = f"rejects: {ours.message}" if isinstance(ours, Rejected) else "compiles"
            b = f"rejects: {ref.message}" if isinstance(ref, Rejected) else "compiles"
            report(False, "compile", None, a, b, None, None)
        return
    variants = folds = None
    scratch = Scratch(ref, reference_runner)
    for pkt, a, b in zip(packets, runs["ours", 0], runs["ref", 0], strict=True):
        if a == b:
            continue
        zeroed, defined = scratch.verdict(pkt, b)
        if not defined:
            stats["undefined (libpcap reads uninitialized scratch; held to M[] = 0)"] += 1
            if a == zeroed:
                continue
            b = zeroed
        if variants is None:
            variants = [
                (name, reference_runner(v))
                for name, (rewrite, _) in MASTER_CHANGES.items()
                if (v := rewrite(ref)) != ref
            ]
        excuse = next((name for name, run in variants if run(pkt.data, pkt.wirelen) == a), None)
        if excuse is None and folds is None:
            folds = has_constant_tests(ref) and _folded_runner(ref, ref_opt, reference_runner)
        if excuse is None and folds and a in folds(pkt.data, pkt.wirelen):
            excuse = "constant folding"
        if excuse is not None:
            stats[f"excused (master change: {excuse})"] += 1
            continue
        report(False, "unopt", pkt, a, b, ours, ref)


def _opt(ours, ref, runs, packets, report, stats, reference_runner) -> None:
    our_opt, ref_opt = ours[1], ref[1]
    if isinstance(our_opt, Rejected):
        if isinstance(ref_opt, Rejected):
            return
        unsat = "rejects all packets" in our_opt.message and all(
            runs[key] is not None and not any(runs[key])
            for key in (("ours", 0), ("ref", 1), ("ref", 0))
        )
        if unsat:
            stats["agreed (bpfc proves unsatisfiable, all programs return 0)"] += 1
            return
        report(True, "compile", None, f"rejects: {our_opt.message}", "compiles", None, ref_opt)
        return
    if isinstance(ref_opt, Rejected):
        report(True, "compile", None, "compiles", f"rejects: {ref_opt.message}", our_opt, None)
        return
    mine, theirs = runs["ours", 1], runs["ref", 1]
    my_unopt, their_unopt = runs["ours", 0], runs["ref", 0]
    scratch = {opt: Scratch(ref[opt], reference_runner) for opt in (0, 1)}
    for n, pkt in enumerate(packets):
        if my_unopt is not None and mine[n] != my_unopt[n]:
            report(True, "opt-self", pkt, mine[n], my_unopt[n], our_opt, ours[0])
            continue
        if their_unopt is None or mine[n] == theirs[n] == their_unopt[n]:
            continue
        them, them_unopt = theirs[n], their_unopt[n]
        if them != them_unopt or mine[n] != them:  # first settle undefined verdicts
            them, _ = scratch[1].verdict(pkt, them)
            them_unopt, _ = scratch[0].verdict(pkt, them_unopt)
        if them != them_unopt:
            stats["skipped (libpcap's optimizer changes its own verdict)"] += 1
        elif my_unopt is not None and my_unopt[n] != them_unopt:
            continue  # the unopt rule's business (a bug, or a master change it excused)
        elif mine[n] != them:
            report(True, "opt-ref", pkt, mine[n], them, our_opt, ref_opt)
