//! AWS plumbing (filled in by the `wait` work).
