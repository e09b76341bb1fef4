"""Bundled name tables: IP protocols, services, Ethernet types, LLC SAPs, 802.11, pflog.

bpfc does not read ``/etc/protocols`` or ``/etc/services`` at run time: a filter must mean
the same thing on every machine.  ``IP_PROTOCOLS`` and ``SERVICES`` were generated once from
the Debian ``netbase`` files (the ones the reference libpcap on the build machine reads);
the other tables restate the values libpcap's scanner, grammar and ``nametoaddr.c`` use.
``SERVICES`` maps a name to its ``(tcp, udp, sctp)`` ports, ``None`` where not defined.
"""

from __future__ import annotations

IP_PROTOCOLS: dict[str, int] = {
    "ip": 0, "IP": 0, "hopopt": 0, "HOPOPT": 0, "icmp": 1, "ICMP": 1, "igmp": 2, "IGMP": 2,
    "ggp": 3, "GGP": 3, "ipencap": 4, "IP-ENCAP": 4, "st": 5, "ST": 5, "tcp": 6, "TCP": 6,
    "egp": 8, "EGP": 8, "igp": 9, "IGP": 9, "pup": 12, "PUP": 12, "udp": 17, "UDP": 17,
    "hmp": 20, "HMP": 20, "xns-idp": 22, "XNS-IDP": 22, "rdp": 27, "RDP": 27, "iso-tp4": 29,
    "ISO-TP4": 29, "dccp": 33, "DCCP": 33, "xtp": 36, "XTP": 36, "ddp": 37, "DDP": 37,
    "idpr-cmtp": 38, "IDPR-CMTP": 38, "ipv6": 41, "IPv6": 41, "ipv6-route": 43,
    "IPv6-Route": 43, "ipv6-frag": 44, "IPv6-Frag": 44, "idrp": 45, "IDRP": 45, "rsvp": 46,
    "RSVP": 46, "gre": 47, "GRE": 47, "esp": 50, "IPSEC-ESP": 50, "ah": 51, "IPSEC-AH": 51,
    "skip": 57, "SKIP": 57, "ipv6-icmp": 58, "IPv6-ICMP": 58, "ipv6-nonxt": 59,
    "IPv6-NoNxt": 59, "ipv6-opts": 60, "IPv6-Opts": 60, "rspf": 73, "RSPF": 73, "CPHB": 73,
    "vmtp": 81, "VMTP": 81, "eigrp": 88, "EIGRP": 88, "ospf": 89, "OSPFIGP": 89, "ax.25": 93,
    "AX.25": 93, "ipip": 94, "IPIP": 94, "etherip": 97, "ETHERIP": 97, "encap": 98, "ENCAP": 98,
    "pim": 103, "PIM": 103, "ipcomp": 108, "IPCOMP": 108, "vrrp": 112, "VRRP": 112, "l2tp": 115,
    "L2TP": 115, "isis": 124, "ISIS": 124, "sctp": 132, "SCTP": 132, "fc": 133, "FC": 133,
    "mobility-header": 135, "Mobility-Header": 135, "udplite": 136, "UDPLite": 136,
    "mpls-in-ip": 137, "MPLS-in-IP": 137, "manet": 138, "hip": 139, "HIP": 139, "shim6": 140,
    "Shim6": 140, "wesp": 141, "WESP": 141, "rohc": 142, "ROHC": 142, "ethernet": 143,
    "Ethernet": 143, "mptcp": 262, "MPTCP": 262,
}  # fmt: skip

SERVICES: dict[str, tuple[int | None, int | None, int | None]] = {
    "tcpmux": (1, None, None), "echo": (7, 7, None), "discard": (9, 9, None),
    "sink": (9, 9, None), "null": (9, 9, None), "systat": (11, None, None),
    "users": (11, None, None), "daytime": (13, 13, None), "netstat": (15, None, None),
    "qotd": (17, None, None), "quote": (17, None, None), "chargen": (19, 19, None),
    "ttytst": (19, 19, None), "source": (19, 19, None), "ftp-data": (20, None, None),
    "ftp": (21, None, None), "fsp": (None, 21, None), "fspd": (None, 21, None),
    "ssh": (22, None, None), "telnet": (23, None, None), "smtp": (25, None, None),
    "mail": (25, None, None), "time": (37, 37, None), "timserver": (37, 37, None),
    "whois": (43, None, None), "nicname": (43, None, None), "tacacs": (49, 49, None),
    "domain": (53, 53, None), "bootps": (None, 67, None), "bootpc": (None, 68, None),
    "tftp": (None, 69, None), "gopher": (70, None, None), "finger": (79, None, None),
    "http": (80, None, None), "www": (80, None, None), "kerberos": (88, 88, None),
    "kerberos5": (88, 88, None), "krb5": (88, 88, None), "kerberos-sec": (88, 88, None),
    "iso-tsap": (102, None, None), "tsap": (102, None, None), "acr-nema": (104, None, None),
    "dicom": (104, None, None), "pop3": (110, None, None), "pop-3": (110, None, None),
    "sunrpc": (111, 111, None), "portmapper": (111, 111, None), "auth": (113, None, None),
    "authentication": (113, None, None), "tap": (113, None, None), "ident": (113, None, None),
    "nntp": (119, None, None), "readnews": (119, None, None), "untp": (119, None, None),
    "ntp": (None, 123, None), "epmap": (135, None, None), "loc-srv": (135, None, None),
    "netbios-ns": (None, 137, None), "netbios-dgm": (None, 138, None),
    "netbios-ssn": (139, None, None), "imap2": (143, None, None), "imap": (143, None, None),
    "snmp": (161, 161, None), "snmp-trap": (162, 162, None), "snmptrap": (162, 162, None),
    "cmip-man": (163, 163, None), "cmip-agent": (164, 164, None), "mailq": (174, None, None),
    "xdmcp": (None, 177, None), "bgp": (179, None, None), "smux": (199, None, None),
    "qmtp": (209, None, None), "z3950": (210, None, None), "wais": (210, None, None),
    "ipx": (None, 213, None), "ptp-event": (None, 319, None), "ptp-general": (None, 320, None),
    "pawserv": (345, None, None), "zserv": (346, None, None), "rpc2portmap": (369, 369, None),
    "codaauth2": (370, 370, None), "clearcase": (None, 371, None),
    "Clearcase": (None, 371, None), "ldap": (389, 389, None), "svrloc": (427, 427, None),
    "https": (443, 443, None), "snpp": (444, None, None), "microsoft-ds": (445, None, None),
    "kpasswd": (464, 464, None), "submissions": (465, None, None), "ssmtp": (465, None, None),
    "smtps": (465, None, None), "urd": (465, None, None), "saft": (487, None, None),
    "isakmp": (None, 500, None), "rtsp": (554, 554, None), "nqs": (607, None, None),
    "asf-rmcp": (None, 623, None), "qmqp": (628, None, None), "ipp": (631, None, None),
    "ldp": (646, 646, None), "exec": (512, None, None), "biff": (None, 512, None),
    "comsat": (None, 512, None), "login": (513, None, None), "who": (None, 513, None),
    "whod": (None, 513, None), "shell": (514, None, None), "cmd": (514, None, None),
    "syslog": (514, 514, None), "printer": (515, None, None), "spooler": (515, None, None),
    "talk": (None, 517, None), "ntalk": (None, 518, None), "route": (None, 520, None),
    "router": (None, 520, None), "routed": (None, 520, None), "gdomap": (538, 538, None),
    "uucp": (540, None, None), "uucpd": (540, None, None), "klogin": (543, None, None),
    "kshell": (544, None, None), "krcmd": (544, None, None), "dhcpv6-client": (None, 546, None),
    "dhcpv6-server": (None, 547, None), "afpovertcp": (548, None, None),
    "nntps": (563, None, None), "snntp": (563, None, None), "submission": (587, None, None),
    "ldaps": (636, 636, None), "tinc": (655, 655, None), "silc": (706, None, None),
    "kerberos-adm": (749, None, None), "domain-s": (853, 853, None), "rsync": (873, None, None),
    "ftps-data": (989, None, None), "ftps": (990, None, None), "telnets": (992, None, None),
    "imaps": (993, None, None), "pop3s": (995, None, None), "socks": (1080, None, None),
    "proofd": (1093, None, None), "rootd": (1094, None, None), "openvpn": (1194, 1194, None),
    "rmiregistry": (1099, None, None), "lotusnote": (1352, None, None),
    "lotusnotes": (1352, None, None), "ms-sql-s": (1433, None, None),
    "ms-sql-m": (None, 1434, None), "ingreslock": (1524, None, None),
    "datametrics": (1645, 1645, None), "old-radius": (1645, 1645, None),
    "sa-msg-port": (1646, 1646, None), "old-radacct": (1646, 1646, None),
    "kermit": (1649, None, None), "groupwise": (1677, None, None), "l2f": (None, 1701, None),
    "l2tp": (None, 1701, None), "radius": (1812, 1812, None), "radius-acct": (1813, 1813, None),
    "radacct": (1813, 1813, None), "cisco-sccp": (2000, None, None), "nfs": (2049, 2049, None),
    "gnunet": (2086, 2086, None), "rtcm-sc104": (2101, 2101, None),
    "gsigatekeeper": (2119, None, None), "gris": (2135, None, None),
    "cvspserver": (2401, None, None), "venus": (2430, 2430, None),
    "venus-se": (2431, 2431, None), "codasrv": (2432, 2432, None),
    "codasrv-se": (2433, 2433, None), "mon": (2583, 2583, None), "dict": (2628, None, None),
    "f5-globalsite": (2792, None, None), "gsiftp": (2811, None, None),
    "gpsd": (2947, None, None), "gds-db": (3050, None, None), "gds_db": (3050, None, None),
    "icpv2": (None, 3130, None), "icp": (None, 3130, None), "isns": (3205, 3205, None),
    "iscsi-target": (3260, None, None), "mysql": (3306, None, None),
    "ms-wbt-server": (3389, None, None), "nut": (3493, 3493, None),
    "distcc": (3632, None, None), "daap": (3689, None, None), "svn": (3690, None, None),
    "subversion": (3690, None, None), "suucp": (4031, None, None), "sysrqd": (4094, None, None),
    "sieve": (4190, None, None), "epmd": (4369, None, None), "remctl": (4373, None, None),
    "f5-iquery": (4353, None, None), "ntske": (4460, None, None),
    "ipsec-nat-t": (None, 4500, None), "iax": (None, 4569, None), "mtn": (4691, None, None),
    "radmin-port": (4899, None, None), "sip": (5060, 5060, None), "sip-tls": (5061, 5061, None),
    "xmpp-client": (5222, None, None), "jabber-client": (5222, None, None),
    "xmpp-server": (5269, None, None), "jabber-server": (5269, None, None),
    "cfengine": (5308, None, None), "mdns": (None, 5353, None),
    "postgresql": (5432, None, None), "postgres": (5432, None, None),
    "freeciv": (5556, None, None), "rptp": (5556, None, None), "amqps": (5671, None, None),
    "amqp": (5672, None, 5672), "x11": (6000, None, None), "x11-0": (6000, None, None),
    "x11-1": (6001, None, None), "x11-2": (6002, None, None), "x11-3": (6003, None, None),
    "x11-4": (6004, None, None), "x11-5": (6005, None, None), "x11-6": (6006, None, None),
    "x11-7": (6007, None, None), "gnutella-svc": (6346, 6346, None),
    "gnutella-rtr": (6347, 6347, None), "redis": (6379, None, None),
    "sge-qmaster": (6444, None, None), "sge_qmaster": (6444, None, None),
    "sge-execd": (6445, None, None), "sge_execd": (6445, None, None),
    "mysql-proxy": (6446, None, None), "babel": (None, 6696, None),
    "ircs-u": (6697, None, None), "bbs": (7000, None, None),
    "afs3-fileserver": (None, 7000, None), "afs3-callback": (None, 7001, None),
    "afs3-prserver": (None, 7002, None), "afs3-vlserver": (None, 7003, None),
    "afs3-kaserver": (None, 7004, None), "afs3-volser": (None, 7005, None),
    "afs3-bos": (None, 7007, None), "afs3-update": (None, 7008, None),
    "afs3-rmtsys": (None, 7009, None), "font-service": (7100, None, None),
    "xfs": (7100, None, None), "http-alt": (8080, None, None), "webcache": (8080, None, None),
    "puppet": (8140, None, None), "bacula-dir": (9101, None, None),
    "bacula-fd": (9102, None, None), "bacula-sd": (9103, None, None),
    "xmms2": (9667, None, None), "nbd": (10809, None, None),
    "zabbix-agent": (10050, None, None), "zabbix-trapper": (10051, None, None),
    "amanda": (10080, None, None), "hkp": (11371, None, None), "db-lsp": (17500, None, None),
    "dcap": (22125, None, None), "gsidcap": (22128, None, None), "wnn6": (22273, None, None),
    "kerberos4": (750, 750, None), "kerberos-iv": (750, 750, None), "kdc": (750, 750, None),
    "kerberos-master": (751, 751, None), "kerberos_master": (None, 751, None),
    "passwd-server": (None, 752, None), "passwd_server": (None, 752, None),
    "krb-prop": (754, None, None), "krb_prop": (754, None, None),
    "krb5_prop": (754, None, None), "hprop": (754, None, None),
    "zephyr-srv": (None, 2102, None), "zephyr-clt": (None, 2103, None),
    "zephyr-hm": (None, 2104, None), "iprop": (2121, None, None),
    "supfilesrv": (871, None, None), "supfiledbg": (1127, None, None),
    "poppassd": (106, None, None), "moira-db": (775, None, None), "moira_db": (775, None, None),
    "moira-update": (777, None, None), "moira_update": (777, None, None),
    "moira-ureg": (None, 779, None), "moira_ureg": (None, 779, None),
    "spamd": (783, None, None), "skkserv": (1178, None, None), "predict": (None, 1210, None),
    "rmtcfg": (1236, None, None), "xtel": (1313, None, None), "xtelw": (1314, None, None),
    "zebrasrv": (2600, None, None), "zebra": (2601, None, None), "ripd": (2602, None, None),
    "ripngd": (2603, None, None), "ospfd": (2604, None, None), "bgpd": (2605, None, None),
    "ospf6d": (2606, None, None), "ospfapi": (2607, None, None), "isisd": (2608, None, None),
    "fax": (4557, None, None), "hylafax": (4559, None, None), "munin": (4949, None, None),
    "lrrd": (4949, None, None), "rplay": (None, 5555, None), "nrpe": (5666, None, None),
    "nsca": (5667, None, None), "canna": (5680, None, None), "syslog-tls": (6514, None, None),
    "sane-port": (6566, None, None), "sane": (6566, None, None), "saned": (6566, None, None),
    "ircd": (6667, None, None), "zope-ftp": (8021, None, None), "tproxy": (8081, None, None),
    "omniorb": (8088, None, None), "clc-build-daemon": (8990, None, None),
    "xinetd": (9098, None, None), "git": (9418, None, None), "zope": (9673, None, None),
    "webmin": (10000, None, None), "kamanda": (10081, None, None),
    "amandaidx": (10082, None, None), "amidxtape": (10083, None, None),
    "sgi-cmsd": (None, 17001, None), "sgi-crsd": (None, 17002, None),
    "sgi-gcd": (None, 17003, None), "sgi-cad": (17004, None, None),
    "binkp": (24554, None, None), "asp": (27374, 27374, None), "csync2": (30865, None, None),
    "dircproxy": (57000, None, None), "tfido": (60177, None, None), "fido": (60179, None, None),
}  # fmt: skip

ETHER_PROTOCOLS: dict[str, int] = {
    "aarp": 0x80F3, "arp": 0x0806, "atalk": 0x809B, "decnet": 0x6003, "ip": 0x0800,
    "ip6": 0x86DD, "lat": 0x6004, "lldp": 0x88CC, "loopback": 0x9000, "mopdl": 0x6001,
    "moprc": 0x6002, "rarp": 0x8035, "sca": 0x6007, "slow": 0x8809,
}  # fmt: skip
"""``pcap_nametoeproto``: names for ``ether proto`` (exact, case-sensitive match)."""

LLC_SAPS: dict[str, int] = {"iso": 0xFE, "stp": 0x42, "ipx": 0xE0, "netbeui": 0xF0}
"""``pcap_nametollc``: the LLC SAP names ``ether proto`` falls back to."""

LLC_S_SUBTYPES: dict[str, int] = {"rr": 0x01, "rnr": 0x05, "rej": 0x09}
LLC_U_SUBTYPES: dict[str, int] = {
    "ui": 0x03, "ua": 0x63, "disc": 0x43, "dm": 0x0F, "sabme": 0x6F, "test": 0xE3,
    "xid": 0xAF, "frmr": 0x87,
}  # fmt: skip
"""``llc KIND`` control-field values (S-format and U-format); ``i``/``s``/``u`` are the
frame formats themselves."""

WLAN_TYPES: dict[str, int] = {
    "data": 0x08, "mgt": 0x00, "management": 0x00, "ctl": 0x04, "control": 0x04,
}  # fmt: skip
"""802.11 frame types (frame-control byte 0, type bits), matched case-insensitively."""

WLAN_SUBTYPES: dict[int, dict[str, int]] = {
    0x00: {
        "assocreq": 0x00, "assoc-req": 0x00, "assocresp": 0x10, "assoc-resp": 0x10,
        "reassocreq": 0x20, "reassoc-req": 0x20, "reassocresp": 0x30, "reassoc-resp": 0x30,
        "probereq": 0x40, "probe-req": 0x40, "proberesp": 0x50, "probe-resp": 0x50,
        "beacon": 0x80, "atim": 0x90, "disassoc": 0xA0, "disassociation": 0xA0,
        "auth": 0xB0, "authentication": 0xB0, "deauth": 0xC0, "deauthentication": 0xC0,
    },
    0x04: {
        "bar": 0x80, "ba": 0x90, "ps-poll": 0xA0, "rts": 0xB0, "cts": 0xC0, "ack": 0xD0,
        "cf-end": 0xE0,
        "cf-end-ack": 0xF0,
    },
    0x08: {
        "data": 0x00, "data-cf-ack": 0x10, "data-cf-poll": 0x20, "data-cf-ack-poll": 0x30,
        "null": 0x40, "cf-ack": 0x50, "cf-poll": 0x60, "cf-ack-poll": 0x70,
        "qos-data": 0x80, "qos-data-cf-ack": 0x90, "qos-data-cf-poll": 0xA0,
        "qos-data-cf-ack-poll": 0xB0, "qos": 0xC0, "qos-cf-poll": 0xE0, "qos-cf-ack-poll": 0xF0,
    },
}  # fmt: skip
"""802.11 subtype names per type (subtype bits of frame-control byte 0), searched in the
order management, control, data when no type is given (``subtype NAME``)."""

WLAN_DIRS: dict[str, int] = {"nods": 0, "tods": 1, "fromds": 2, "dstods": 3}
"""802.11 ``dir`` names (the two DS bits of frame-control byte 1)."""

PF_REASONS: dict[str, int] = {
    "match": 0, "bad-offset": 1, "fragment": 2, "short": 3, "normalize": 4, "memory": 5,
    "bad-timestamp": 6, "congestion": 7, "ip-option": 8, "proto-cksum": 9,
    "state-mismatch": 10, "state-insert": 11, "state-limit": 12, "src-limit": 13,
    "synproxy": 14,
}  # fmt: skip
"""pflog ``reason`` names (the set libpcap master knows when built on Linux)."""

PF_ACTIONS: dict[str, int] = {
    "pass": 0, "accept": 0, "drop": 1, "block": 1, "scrub": 2, "noscrub": 3, "nat": 4,
    "nonat": 5, "binat": 6, "nobinat": 7, "rdr": 8, "nordr": 9, "synproxy-drop": 10,
}  # fmt: skip
"""pflog ``action`` names (Linux build of libpcap master)."""
