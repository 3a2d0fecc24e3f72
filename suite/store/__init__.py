"""The results folder of a run: its files and their atomic writes, the folder's lock, the machine
record, and loading a results file with every value checked. No torch."""
