"""Knowledge-base articles and script templates (话术)."""
