"""The domain, with no I/O: the records, the rules, the engine and the world they act on."""
