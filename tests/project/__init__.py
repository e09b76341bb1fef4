"""The repository itself: packaging, README examples, the tests' layout."""
