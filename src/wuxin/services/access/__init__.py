"""Who may read what: people and tokens, consent, consented reads and the access log."""
