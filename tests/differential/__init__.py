"""bpfc against libpcap (1.10.3 and master) on packets, and the policy judging them."""
