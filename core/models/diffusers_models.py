"""diffusers_models entries of the zoo (registered by their lesson)."""
