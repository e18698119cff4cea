"""Readers for the files a Ludwig run writes; each returns data plus findings, never raises for bad files."""
