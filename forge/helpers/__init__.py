"""Commands that recipe build scripts call (installed as console scripts with the forge)."""
