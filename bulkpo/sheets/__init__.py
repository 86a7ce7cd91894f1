"""Spreadsheet files in and out: the only package that imports calamine, openpyxl or pandas."""

from bulkpo.sheets.reader import HeaderScorer, list_sheets, read_table, read_tables

__all__ = ["HeaderScorer", "list_sheets", "read_table", "read_tables"]
