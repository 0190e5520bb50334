"""broadcast package."""
