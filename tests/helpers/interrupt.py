"""A `harness run` slowed down, for the tests that interrupt a run mid-generation (resume, launchers)."""

# The same `harness run`, with each batch (or refilled group) slowed down so the kill lands mid-generation.
SLOW = ("import sys, time\n"
        "import harness.systems.language_model as lm\n"
        "def slowed(original):\n"
        "    def slow(self, *args, **kwargs):\n"
        "        time.sleep(0.7)\n"
        "        return original(self, *args, **kwargs)\n"
        "    return slow\n"
        "lm.CausalLM.summarize_batch = slowed(lm.CausalLM.summarize_batch)\n"
        "lm.CausalLM.summarize_group = slowed(lm.CausalLM.summarize_group)\n"
        "from harness.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
