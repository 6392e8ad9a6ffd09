//! C header generation (`wasmaot compile --header`).
