"""The evaluation engine: cascade of attacks, verification of every adversarial example, cost accounting."""
