"""Admin-driven after-sales rule tables and the pure decision engine."""
