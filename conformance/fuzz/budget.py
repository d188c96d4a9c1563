"""The fuzzer's default budget, apart from the fuzzer so that the plugin can show it in
--help without importing Hypothesis on every pytest run."""

DEFAULT_EXAMPLES = 200
STEPS_PER_EXAMPLE = 20
