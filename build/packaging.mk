# Packaging targets; filled in by the packaging work (issue 7).
