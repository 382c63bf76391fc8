.PHONY: demo test setup crds lint
demo:   ## run the quickstart demo on the local control plane
	hack/demo.sh
test:   ## the whole test suite, e2e included (what CI runs)
	hack/test.sh
setup:  ## install Prometheus, the Python environment and the control plane binaries
	hack/setup.sh
crds:   ## regenerate crds/ from augur.api
	.venv/bin/augur crds generate
