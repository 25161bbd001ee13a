"""Commands to devices: the model, its rules and the channels' operation sets (pure; see design.md, Commands)."""
