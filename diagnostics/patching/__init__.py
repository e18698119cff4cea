"""Config patches: dotted paths, round-trip YAML edits, conflicts between findings, diffs, validation."""
