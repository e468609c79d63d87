"""The course's assignments, one folder each (manifest, checks, harness, mistakes, styles): see autograder.registry."""
