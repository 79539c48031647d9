"""Training: objectives, the fit loop, several processes, runs in a child process."""
