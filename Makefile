# The two commands of the README. Both install what they need first.
.PHONY: serve test setup lint-wasm

# Serve the app on the embedded defaults (built-in test model, embedded reasoner).
serve:
	scripts/serve.sh

# Run the whole test suite (what CI runs).
test:
	scripts/test.sh

setup:
	scripts/setup.sh

# clippy for wasm32 too (make test lints on the host only), also with the
# relaxed-SIMD worker's feature (scripts/build-relaxed.sh).
lint-wasm:
	cargo clippy --locked --target wasm32-unknown-unknown -p twinseg-app -p twinseg-worker -- -D warnings
	cargo clippy --locked --target wasm32-unknown-unknown -p twinseg-worker --features relaxed-simd -- -D warnings
