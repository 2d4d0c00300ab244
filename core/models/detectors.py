"""detectors entries of the zoo (registered by their lesson)."""
