"""eBPF: cBPF programs translated for XDP, TC and socket filters, and the kernel that runs them."""
