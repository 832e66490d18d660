// Intentionally empty: every function of CXDPKit is a static inline in the header.
