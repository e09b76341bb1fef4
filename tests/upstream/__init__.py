"""libpcap's own filter tests run against bpfc (data/ beside)."""
