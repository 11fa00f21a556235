"""`make demo`: riposte's scenarios, end to end, on the local real control plane."""
