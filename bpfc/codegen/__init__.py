"""Code generation: from filter primitives to a control-flow graph.

One module per protocol family, all working on one explicit
:class:`~bpfc.codegen.state.CodegenState`:

* :mod:`.state`: compile state, scratch registers, the offset model, loads and compares;
* :mod:`.link`: link-layer type tests and MAC addresses, driven by :mod:`bpfc.linktypes`;
* :mod:`.net`: IPv4/IPv6/ARP hosts, nets, protocols, broadcast/multicast, gateway;
* :mod:`.transport`: ports, port ranges, protochain;
* :mod:`.arith`: ``proto[expr:size]`` loads, arithmetic, relations, ``len``, less/greater;
* :mod:`.dispatch`: the AST walk that calls the generators in source order.

Every generator returns a :class:`~bpfc.cfg.Cond` and builds the same block graph as
libpcap's gencode.c, so the linearized program matches libpcap's listing.
"""
