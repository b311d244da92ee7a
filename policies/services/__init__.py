from policies.services.rules import policy_rules_clone, policy_rules_deactivate

__all__ = ["policy_rules_clone", "policy_rules_deactivate"]
