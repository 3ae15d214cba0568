"""`pronto-sheets`: the command line (fill a sheet, run the demo, serve locally).

Installed with the project, not deployed: the function itself is `pronto_sheets`.
"""
