"""``compile()``: filter expression text to a validated :class:`~bpfc.program.Program`.

The pipeline: parse (``bpfc.syntax.parse``) -> generate a CFG in source order
(``bpfc.codegen``) -> close it with ``ret snaplen`` / ``ret 0`` -> linearize in
libpcap's block order (``bpfc.emit``), or optimize (``bpfc.opt``: the passes run on a
graph made straight from code generation's blocks) -> validate.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from bpfc import ast, linktypes
from bpfc.argcheck import check_flag, check_int, check_linktype, check_resolver, check_str
from bpfc.cfg import finish, ret_block
from bpfc.codegen import pflog, vlhdr
from bpfc.codegen.dispatch import check_reduced, gen_expr, new_state
from bpfc.codegen.state import NETMASK_UNKNOWN, CodegenState
from bpfc.emit import BpfcWarning, block_order, linearize, warn_if_too_long
from bpfc.errors import REJECTS_ALL, CompileError
from bpfc.isa.insn import stmt
from bpfc.isa.opcodes import RET_K
from bpfc.program import Program
from bpfc.savefile import check_savefile
from bpfc.scope import RECURSION_LIMIT as RECURSION_LIMIT  # the public name
from bpfc.scope import compiling
from bpfc.syntax.parse import parse

if TYPE_CHECKING:  # pragma: no cover
    from bpfc.cfg import Block
    from bpfc.savefile import SavefileInfo


def parse_netmask(netmask: int | str | None) -> int:
    """libpcap's netmask argument: None is PCAP_NETMASK_UNKNOWN; dotted quads accepted."""
    if netmask is None:
        return NETMASK_UNKNOWN
    if isinstance(netmask, int) and not isinstance(netmask, bool):
        return check_int("netmask", netmask, 0, 0xFFFFFFFF)
    if not isinstance(netmask, str):
        kind = type(netmask).__name__
        raise TypeError(f"netmask must be a dotted quad (str), an int or None, not {kind}")
    parts = netmask.split(".")
    if len(parts) != 4 or not all(p.isascii() and p.isdigit() and int(p) < 256 for p in parts):
        raise ValueError(f"invalid netmask {netmask[:40]!r} (want a dotted quad: 255.255.255.0)")
    return int.from_bytes(bytes(int(p) for p in parts), "big")


MAX_SNAPLEN = 0xFFFFFFFF
"""The largest snapshot length: it is the accept return value, a 32-bit ``k``."""


def check_arguments(expr: object, linktype: object, snaplen: object, **flags: object) -> None:
    """TypeError/ValueError naming the argument for a wrong ``expr``, ``linktype``,
    ``snaplen`` or flag (``netmask`` is checked by :func:`parse_netmask`)."""
    check_str("filter expression", expr)
    check_linktype(linktype)
    check_int("snaplen", snaplen, 0, MAX_SNAPLEN)
    for name, value in flags.items():
        check_flag(name, value)


def build_cfg(
    expr: str,
    linktype: str | int = "EN10MB",
    snaplen: int = 262144,
    netmask: int | str | None = None,
    *,
    linux: bool = False,
    resolver: Any = None,
    savefile: SavefileInfo | None = None,
) -> tuple[Block, CodegenState]:
    """The closed, unoptimized control-flow graph for ``expr`` and its compile state."""
    check_arguments(expr, linktype, snaplen, linux=linux)
    check_resolver(resolver)
    link = linktypes.lookup(linktype)
    if snaplen <= 0:
        raise CompileError("snaplen of 0 rejects all packets", expr)
    state = new_state(  # with the explicit framing/MAC tables of dispatch
        link,
        snaplen=snaplen,
        netmask=parse_netmask(netmask),
        linux=linux,
        resolver=resolver,
        expr=expr,
        savefile=check_savefile(savefile),
    )
    if link.vlhdr == "pflog":  # pflog's variable header has its own module
        pflog.setup(state)
    elif link.vlhdr is not None:  # 802.11 family: radio and 802.11 header lengths
        vlhdr.setup(state)
    try:
        tree = parse(expr)
    except CompileError as err:  # libpcap reports a semantic error it met before this one
        check_reduced(state, err)
        raise
    if isinstance(tree, ast.Empty):
        return ret_block(snaplen), state
    cond = gen_expr(state, tree)
    state.extra["const"] = cond.const
    prologue = state.extra.get("prologue")
    if prologue is not None:  # variable-length link headers: lengths into registers first
        cond = prologue(state, cond)
    root = finish(cond, snaplen)
    return root, state


def compile(  # noqa: A001 - the public name mirrors pcap_compile
    expr: str,
    linktype: str | int = "EN10MB",
    snaplen: int = 262144,
    optimize: bool = True,
    netmask: int | str | None = None,
    *,
    linux: bool = False,
    resolver: Any = None,
    verify: bool = False,
    savefile: SavefileInfo | None = None,
    optimizer: str = "bpfc",
) -> Program:
    """Compile ``expr`` as libpcap's ``pcap_compile`` would for ``pcap_open_dead(linktype,
    snaplen)``; ``netmask=None`` is PCAP_NETMASK_UNKNOWN, ``linux`` a live Linux socket.

    ``savefile`` (a :class:`bpfc.savefile.SavefileInfo`) compiles for a capture file
    instead, as for ``pcap_open_offline``: loopback address families are tested as
    libpcap does for a savefile of that byte order (``bpfc.savefile``).

    ``verify=True`` runs the optimizer's input and output over a packet sample and raises
    :class:`bpfc.errors.InternalError` rather than return a program whose verdict differs.

    ``optimizer="libpcap"`` returns libpcap master's optimized program instruction for
    instruction (``bpfc.opt.libpcap_layout``) instead of bpfc's own, smaller one."""
    check_arguments(expr, linktype, snaplen, optimize=optimize, linux=linux, verify=verify)
    check_optimizer(optimizer)
    check_resolver(resolver)
    parse_netmask(netmask)  # its TypeError/ValueError now, before any work
    try:
        with compiling():
            if optimize and optimizer == "libpcap":
                return _compile_libpcap(
                    expr, linktype, snaplen, netmask, linux, resolver, verify, savefile
                )
            return _compile(
                expr, linktype, snaplen, optimize, netmask, linux, resolver, verify, savefile
            )
    except RecursionError:
        # libpcap's parser stops at 10,000 levels ("memory exhausted"); ours may recurse
        # deeper than Python allows in codegen or the optimizer on deep nesting
        raise CompileError(
            "expression too deeply nested", expr, hint="use fewer nested not/()/operators"
        ) from None


OPTIMIZERS = ("bpfc", "libpcap")
"""``compile(optimizer=...)``: bpfc's own optimizer, or libpcap master's exact program."""


def check_optimizer(optimizer: object) -> str:
    check_str("optimizer", optimizer)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be 'bpfc' or 'libpcap', not {optimizer!r}"[:200])
    return optimizer  # type: ignore[return-value]


def _compile_libpcap(
    expr: str,
    linktype: str | int,
    snaplen: int,
    netmask: int | str | None,
    linux: bool,
    resolver: Any,
    verify: bool,
    savefile: SavefileInfo | None,
) -> Program:
    """libpcap master's optimized program for ``expr`` (``bpfc.opt.libpcap_layout``).

    Where the model of master's optimizer gives up (its round cap, which no filter met
    so far), bpfc's own optimizer's program is returned with a :class:`BpfcWarning`:
    correct, but not master's text."""
    from bpfc.opt.libpcap_layout import Undecided, master_program

    root, state = build_cfg(
        expr, linktype, snaplen, netmask, linux=linux, resolver=resolver, savefile=savefile
    )
    try:
        insns = master_program(
            root, expr, linktypes.lookup(linktype).dlt, bool(state.extra.get("no_optimize"))
        )
    except Undecided:
        warnings.warn(
            "libpcap's optimizer could not be replayed for this filter; "
            "the program is bpfc's optimizer's",
            BpfcWarning,
            stacklevel=4,
        )
        return _compile(expr, linktype, snaplen, True, netmask, linux, resolver, verify, savefile)
    if verify:
        from bpfc.opt.verify import check

        check(linearize(root, warn=False), insns)
    warn_if_too_long(insns)
    return Program.from_insns(insns)


def _compile(
    expr: str,
    linktype: str | int,
    snaplen: int,
    optimize: bool,
    netmask: int | str | None,
    linux: bool,
    resolver: Any,
    verify: bool = False,
    savefile: SavefileInfo | None = None,
) -> Program:
    root, state = build_cfg(
        expr, linktype, snaplen, netmask, linux=linux, resolver=resolver, savefile=savefile
    )
    if optimize:
        # libpcap refuses what ITS optimizer proves constant-false or cannot fold: decided
        # by a model of it where bpfc's own verdict may differ (bpfc.opt.libpcap_model)
        doomed = state.extra.get("const") is False or (root.is_ret and root.k == 0)
        compiles = None  # master's verdict: None while not asked or undecided
        if doomed or _worth_asking(root):
            compiles = _master_compiles(root, state, linktype, expr)
        if doomed and not compiles:
            raise CompileError(REJECTS_ALL, expr)
        if doomed:  # master compiles it, and it rejects every packet
            return Program.from_insns([stmt(RET_K, 0)])
        try:
            insns = _optimized(root, expr, verify)
        except CompileError as err:
            if err.message != REJECTS_ALL:
                raise
            if compiles is None:
                compiles = _master_compiles(root, state, linktype, expr)
            if not compiles:
                raise
            insns = [stmt(RET_K, 0)]  # bpfc's optimizer proved it; master does not refuse
    else:
        insns = linearize(root, warn=False)
    warn_if_too_long(insns)
    return Program.from_insns(insns)


def _worth_asking(root: Block) -> bool:
    from bpfc.opt.libpcap_model import worth_asking

    return worth_asking(root)


def _master_compiles(
    root: Block, state: CodegenState, linktype: str | int, expr: str
) -> bool | None:
    """Raise libpcap master's refusal of the unoptimized graph ``root`` where its optimizer
    refuses it; else True, or None when the graph is too big to model."""
    from bpfc.opt.libpcap_model import Undecided, master_refusal

    try:
        message = master_refusal(
            root, linktypes.lookup(linktype).dlt, bool(state.extra.get("no_optimize"))
        )
    except Undecided:
        return None
    if message is not None:
        raise CompileError(message, expr)
    return True


def _optimized(root: Block, expr: str, verify: bool) -> list:
    """The optimized program of the closed graph ``root``; errors reported against ``expr``.

    The optimizer's graph is built straight from code generation's blocks
    (``bpfc.opt.graph.from_cfg``): laying the unoptimized program out and reading it
    back would cost more than the passes on big ``or`` lists, and about a third of the
    optimizer's own time on ordinary expressions.  Only what is no DAG of blocks
    (protochain's backward jump) has no such graph: its listing is returned as it is,
    as ``bpfc.opt.optimize`` would.  ``bpfc.opt.optimize_graph`` runs the one pipeline.
    """
    from bpfc.opt import is_forward, optimize_graph
    from bpfc.opt.graph import build, from_cfg

    blocks = block_order(root)
    listing: list | None = None

    def unoptimized() -> list:
        nonlocal listing
        if listing is None:
            listing = linearize(root, warn=False, blocks=blocks)
        return listing

    graph = from_cfg(blocks)
    # the listing has a statement or terminator for every one of the blocks' (and more
    # where a long jump needs a ``ja``)
    size = sum([len(b.stmts) + 1 for b in blocks])
    if graph is None:  # a loop; or, should code generation ever make one, a ``ja`` block
        if not is_forward(unoptimized()):
            return unoptimized()
        graph = build(unoptimized())
    try:
        return optimize_graph(graph, unoptimized, size, verify=verify)
    except CompileError as err:
        raise CompileError(err.message, expr, err.span, err.hint) from None
