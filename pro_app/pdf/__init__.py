"""Signed PDF copies of sealed records: content, rendering (WeasyPrint), signing (pyHanko), verification
and the database-backed queue that produces them."""
