"""Pure recognition logic (numpy / scikit-learn), no I/O: matching faces to
contacts, grouping unknown faces, and choosing vibration patterns."""
