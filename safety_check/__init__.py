"""safety_check package."""
