"""JT/T 808 vehicle terminals (部标机): codec, TCP gateway, terminal simulator."""
