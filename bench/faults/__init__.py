"""The fault harness: real processes under a mixed load while faults strike, every operation
recorded, and a checker proving from the history and the end state that nothing was oversold,
lost, made up or left out of step. Run it with `python -m bench.faults` (see __main__)."""
