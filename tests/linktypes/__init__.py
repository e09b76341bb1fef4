"""Tests of the link-type table (bpfc/linktypes/): rows, lookups, LINKTYPE<->DLT, descriptions."""
