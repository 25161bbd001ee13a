"""Evidence: the ledger, who reads its entries, and traceability (EPCIS)."""
