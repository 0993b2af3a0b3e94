"""The admin listener (`ovp serve --admin-port`): probes and metrics for the whole server, from a
thread of its main process (`listener`), answered from what each worker reports of itself
(`reporting`, in the worker; `states`, the files between them)."""
