"""Tests of bpfc/packetgen: the packet builder."""
