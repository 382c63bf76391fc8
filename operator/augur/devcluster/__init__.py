"""The local control plane for the demo, the e2e tests and the benchmarks (adapter layer)."""
