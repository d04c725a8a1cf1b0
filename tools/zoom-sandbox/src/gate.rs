//! (Owner: OAuth/gate side.)
