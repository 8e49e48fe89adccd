# The two commands of the README. Both install what they need first.
.PHONY: serve test setup

# Serve the app on the embedded defaults (built-in test model, embedded reasoner).
serve:
	scripts/serve.sh

# Run the whole test suite (what CI runs).
test:
	scripts/test.sh

setup:
	scripts/setup.sh
