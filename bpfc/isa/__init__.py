"""The classic BPF machine: everything about cBPF that does not depend on filter syntax.

Like Go's ``x/net/bpf`` (constants, instructions, assembler and VM side by side), this
package holds the instruction set and the programs' text and binary forms:

* :mod:`~bpfc.isa.opcodes` -- opcode fields, masks, whole opcodes, the ancillary table:
  the one place an opcode's number is written;
* :mod:`~bpfc.isa.insn` -- the ``(code, jt, jf, k)`` instruction and its builders;
* :mod:`~bpfc.isa.listing` -- one instruction as libpcap's ``bpf_image`` line;
* :mod:`~bpfc.isa.listing_reader` -- mnemonic listings (``-d``, ``bpf_asm``) read back;
* :mod:`~bpfc.isa.dump` -- every text form a program is written in (``-d``/``-dd``/...);
* :mod:`~bpfc.isa.asm` -- the assembler (any of those forms back to a ``Program``);
* :mod:`~bpfc.isa.validation` -- libpcap's and the kernel's static checks;
* :mod:`~bpfc.isa.dot` -- Graphviz for programs and for the compiler's CFG.

The interpreter (:mod:`bpfc.vm`) runs what this package describes, and
:class:`bpfc.program.Program` ties compile, validate, run and attach together; it
stays at the top level because it is the object users hold, not part of the machine.
Nothing here imports the compiler (``bpfc.codegen``, ``bpfc.cfg``, ``bpfc.syntax``).
"""
