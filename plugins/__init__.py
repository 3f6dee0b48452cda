"""First-party module plugins; each registers through the gallra.plugins entry point."""
