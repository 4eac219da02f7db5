"""Launching the recipe on one or many GPU nodes: repro/launch/*.sh and the command lines they run (commands.py)."""
