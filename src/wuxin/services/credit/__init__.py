"""Credit: assessment and scorecards, model governance, the officer's workflow, loans, pledges, the portfolio."""
