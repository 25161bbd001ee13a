"""Product identity (GS1), EPCIS 2.0 events and anti-counterfeit checks."""
