"""Registers the encapsulations beyond offline ``vlan``/``mpls`` (:mod:`.encap`).

``pppoed``/``pppoes`` (:mod:`.pppoe`), ``geneve``/``vxlan`` (:mod:`.tunnel`) and the
Linux live-socket ``vlan`` with ancillary loads (:mod:`.vlan_live`), imported once by
the dispatcher after the link-type modules so that their handlers wrap those.
"""

from bpfc.codegen import pppoe, tunnel, vlan_live  # noqa: F401
